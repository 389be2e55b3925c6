using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Testing.Tests;

/// <summary>A container configured with <c>UseRecording()</c>, as a user's test sets it up.</summary>
public sealed class Recording : IDisposable
{
    private readonly ServiceProvider _services;

    public Recording(Action<IServiceCollection>? configureServices = null, Action<MageFlowOptions>? configureOptions = null)
    {
        var services = new ServiceCollection().AddMageFlow(o =>
        {
            o.UseRecording();
            configureOptions?.Invoke(o);
        });
        configureServices?.Invoke(services);
        _services = services.BuildServiceProvider();
    }

    public IMageFlow Mage => _services.GetRequiredService<IMageFlow>();

    public MageRecorder Recorder => _services.GetRequiredService<MageRecorder>();

    public void Dispose() => _services.Dispose();
}
