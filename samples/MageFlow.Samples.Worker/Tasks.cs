using Microsoft.Extensions.Logging;

namespace MageFlow.Samples.Worker;

public sealed record ResizeImage(string ImageId, int Width, string? Format = "webp");

public sealed record ImageResized(string ImageId, string Url);

public sealed record PublishImage([property: ReturnValue] ImageResized? Resized, string Gallery);

public sealed record ReportFailure(string ImageId, int Width, string? Format, string Team);

/// <summary>
/// Tasks shared by the producer and the workers. In a real system this class lives in a library both
/// reference; every process that runs a worker registers them (at compile time, no scanning).
/// </summary>
public static class ImageTasks
{
    [MageTask("resize-image", Retries = 2)]
    public static async Task<ImageResized> Resize(ResizeImage message, TaskContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(20, cancellationToken); // stands for real work
        if (message.Width <= 0) throw new NonRetryableException($"width must be positive, got {message.Width}");
        return new ImageResized(message.ImageId, $"https://cdn.example/{message.ImageId}-{message.Width}.{message.Format}");
    }

    [MageTask]
    public static Task Publish(PublishImage message, TaskContext context)
    {
        var logger = (ILogger?)context.Services.GetService(typeof(ILogger<PublishImage>));
        logger?.LogInformation("Published {Url} to gallery {Gallery}", message.Resized?.Url, message.Gallery);
        Console.WriteLine($"published {message.Resized?.Url} to '{message.Gallery}'");
        return Task.CompletedTask;
    }

    [MageTask]
    public static Task ReportResizeFailure(ReportFailure message, TaskContext context)
    {
        Console.WriteLine($"team '{message.Team}' notified: {message.ImageId} at width {message.Width} failed: {context.Failure?.Error}");
        return Task.CompletedTask;
    }
}
