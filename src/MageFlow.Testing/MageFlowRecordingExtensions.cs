using MageFlow.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MageFlow;

/// <summary>Configures MageFlow for unit tests: <c>services.AddMageFlow(o =&gt; o.UseRecording())</c>.</summary>
public static class MageFlowRecordingExtensions
{
    /// <summary>
    /// Records instead of running: every signature created and every run dispatched is kept by the
    /// <see cref="MageRecorder"/> (resolve it from the container), and no task body runs unless a test asks for it
    /// (<see cref="MageRecorder.ExecuteAsync"/>). Signatures are stored as the in-memory backend stores them, so
    /// statuses, kwargs updates, lifecycle operations and swarm limits behave as in production. Adding
    /// <c>AddMageFlowWorker()</c> as well fails the host's start (<see cref="NotSupportedException"/>): the recorder is the only one that takes runs.
    /// </summary>
    public static MageFlowOptions UseRecording(this MageFlowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseBackend(
            "recording",
            services => services.GetRequiredService<MageRecorder>().Backend,
            services => services.AddSingleton(provider => new MageRecorder(
                provider.GetRequiredService<MageFlowOptions>(),
                provider.GetRequiredService<MageTaskRegistry>(),
                provider.GetRequiredService<IServiceScopeFactory>(),
                provider.GetRequiredService<ILoggerFactory>().CreateLogger<MageRecorder>())));
    }
}
