namespace MageFlow.Samples.Dashboard;

/// <summary>The sample's tasks: some succeed, some fail on purpose, one runs until it is stopped.</summary>
public static class SampleTasks
{
    /// <summary>The stock reserve-stock holds: a larger order fails, so one chain stops at its second step.</summary>
    public const int StockOnHand = 10;

    /// <summary>charge-card declines amounts above this, with an error that repeats the order id and note as given.</summary>
    public const decimal CardLimit = 100m;

    [MageTask]
    public static string Greet(GreetMessage message) => $"hello, {message.Name}";

    [MageTask(Retries = 1, RetryDelayMilliseconds = 100)]
    public static Receipt ChargeCard(ChargeMessage message) =>
        message.Amount <= CardLimit
            ? new Receipt(message.OrderId, message.Amount)
            : throw new InvalidOperationException($"card declined for order {message.OrderId} ({message.Note}): {message.Amount} is above the limit");

    [MageTask]
    public static string SendReceipt(ReceiptMessage message) => $"{message.Template}: {message.Receipt?.OrderId}";

    [MageTask]
    public static string NotifySupport(SupportMessage message) => $"{message.Channel}: order {message.OrderId} failed";

    [MageTask]
    public static ValidatedOrder ValidateOrder(OrderMessage message) => new(message.OrderId, message.Quantity);

    [MageTask]
    public static Reservation ReserveStock(ReserveMessage message) =>
        message.Order is { Quantity: <= StockOnHand } order
            ? new Reservation(order.OrderId, $"shelf-{order.Quantity}")
            : throw new NonRetryableException($"only {StockOnHand} in stock, order {message.Order?.OrderId} wants {message.Order?.Quantity}");

    [MageTask]
    public static string ShipOrder(ShipMessage message) => $"{message.Reservation?.OrderId} shipped by {message.Carrier}";

    [MageTask]
    public static async Task<string> ResizeImage(ImageMessage message, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        return message.File.Contains("corrupt", StringComparison.Ordinal)
            ? throw new NonRetryableException($"{message.File} is not an image")
            : $"thumb-{message.File}";
    }

    [MageTask]
    public static int CountThumbnails(ImagesMessage message) => message.Thumbnails?.Count ?? 0;

    /// <summary>Runs for an hour unless interrupted or canceled: the dashboard shows it Active and can stop it.</summary>
    [MageTask]
    public static async Task<string> BuildReport(ReportMessage message, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromHours(1), cancellationToken);
        return $"report {message.Period}";
    }
}
