using MageFlow.Signatures;
using Microsoft.Extensions.Logging;

namespace MageFlow.Backends.Redis;

// Placeholder being replaced by the real backend in this same change set.
internal sealed class RedisBackend : IMageBackend
{
    public RedisBackend(RedisBackendOptions options, ILogger<RedisBackend> logger) => throw new NotSupportedException("Redis backend not built yet.");
    public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> SetStatusAsync(string id, SignatureStatus status, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<Delivery>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<Delivery>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task KeepAliveAsync(IReadOnlyCollection<Delivery> inFlight, string consumer, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<StartOutcome> StartAsync(Delivery delivery, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, TimeSpan doneTtl, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, TimeSpan doneTtl, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task AcknowledgeAsync(Delivery delivery, CancellationToken cancellationToken) => throw new NotSupportedException();
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
