using Microsoft.Extensions.DependencyInjection;

namespace MageFlow;

/// <summary>What a running task may know about its run. Ask for it as a parameter of a task method.</summary>
public sealed class TaskContext
{
    private readonly IServiceScopeFactory _scopes;
    private IServiceScope? _scope;
    private bool _ended;

    internal TaskContext(string signatureId, string taskName, int attempt, int maxAttempts, IServiceScopeFactory scopes, TaskFailure? failure)
    {
        SignatureId = signatureId;
        TaskName = taskName;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        _scopes = scopes;
        Failure = failure;
    }

    /// <summary>The signature being run.</summary>
    public string SignatureId { get; }

    /// <summary>The task being run.</summary>
    public string TaskName { get; }

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; }

    /// <summary>Retries + 1.</summary>
    public int MaxAttempts { get; }

    /// <summary>
    /// A scope created for this run, on first use (a static task that asks for nothing costs none): instance tasks are
    /// resolved from it. It is disposed when the run ends.
    /// </summary>
    public IServiceProvider Services
    {
        get
        {
            var scope = Volatile.Read(ref _scope);
            if (scope is null)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _ended), this);
                var created = _scopes.CreateScope();
                scope = Interlocked.CompareExchange(ref _scope, created, null) ?? created;
                if (!ReferenceEquals(scope, created)) created.Dispose();
                else if (Volatile.Read(ref _ended))
                {
                    // The run ended meanwhile (asked from work the body left running): nothing would dispose this scope.
                    Interlocked.CompareExchange(ref _scope, null, created);
                    created.Dispose();
                    ObjectDisposedException.ThrowIf(true, this);
                }
            }
            return scope.ServiceProvider;
        }
    }

    /// <summary>For an error callback: what failed. Null for ordinary runs and success callbacks.</summary>
    public TaskFailure? Failure { get; }

    /// <summary>The run is over: disposes its scope, if one was made; <see cref="Services"/> is no longer available.</summary>
    internal ValueTask EndAsync()
    {
        Volatile.Write(ref _ended, true);
        return Interlocked.Exchange(ref _scope, null) switch
        {
            null => ValueTask.CompletedTask,
            IAsyncDisposable scope => scope.DisposeAsync(),
            var scope => Dispose(scope),
        };

        static ValueTask Dispose(IDisposable scope)
        {
            scope.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The failure an error callback was dispatched for.</summary>
/// <param name="SignatureId">The failed signature.</param>
/// <param name="TaskName">The failed task.</param>
/// <param name="Error">The error text recorded for the last attempt.</param>
public sealed record TaskFailure(string SignatureId, string TaskName, string Error)
{
    /// <summary>Why the task failed.</summary>
    public TaskFailureKind Kind { get; init; } = TaskFailureKind.Error;
}

/// <summary>Why a task failed for good.</summary>
public enum TaskFailureKind
{
    /// <summary>The body threw on its last attempt (or threw <see cref="NonRetryableException"/>).</summary>
    Error = 0,

    /// <summary>The last attempt ran past the task's time limit.</summary>
    TimedOut = 1,

    /// <summary>The run was taken over from a stopped worker more than <see cref="MageWorkerOptions.MaxStalls"/> times (poison).</summary>
    Stalled = 2,

    /// <summary>The input could not be composed or did not fit the message type; the body never ran.</summary>
    InvalidInput = 3,

    /// <summary>The body's result could not be serialized or exceeds <see cref="MageFlowOptions.MaxPayloadBytes"/>; it is not run again.</summary>
    InvalidResult = 4,

    /// <summary>No task of the signature's name is registered in the worker that took the run.</summary>
    UnknownTask = 5,
}
