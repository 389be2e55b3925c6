using System.Diagnostics;
using System.Text.Json;
using MageFlow.Benchmarks.Workload;
using MageFlow.Composition;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Benchmarks.Profiling;

/// <summary>Time and allocation of one piece of the hot path, measured alone on one thread.</summary>
internal sealed record SectionCost(string Section, double NanosecondsPerCall, double BytesPerCall);

/// <summary>
/// The CPU work MageFlow does per task + callback pair outside Redis, piece by piece, with the same inputs the
/// end-to-end run produces: kwargs binding and ids when signing, message serialization when running, and in
/// the worker the input composition (as a run composes it) and the typed (de)serialization of each handler.
/// </summary>
internal static class HotPathSections
{
    public static IReadOnlyList<SectionCost> Measure(int iterations)
    {
        var json = MageJson.DefaultOptions;
        // The generated descriptors: what a worker runs for [MageTask] methods.
        var work = BenchWork.Descriptor;
        var done = BenchDone.Descriptor;
        RunProbe.Activate(new RunProbe(1));
        var services = new ServiceCollection().BuildServiceProvider();
        var scopes = services.GetRequiredService<IServiceScopeFactory>();
        var context = new TaskContext("AAAAAAAAAAAAAAAA", BenchTasks.Work, 1, 1, scopes, null);

        var workKwargs = new KwargsBuilder(json).Add("source", "bench").Entries.ToArray();
        var doneKwargs = new KwargsBuilder(json).Add("index", 0).Entries.ToArray();
        var message = JsonSerializer.SerializeToUtf8Bytes(new WorkMessage(0), json);
        var workInput = InputComposer.Compose(message, workKwargs, default);
        var result = work.InvokeAsync(workInput, context, json, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        using var doneComposed = InputComposer.ComposeOverResult("result", result, doneKwargs, default);
        var doneInput = doneComposed.ToArray();

        var record = new Signatures.SignatureRecord(Signatures.SignatureRecord.NewId(), BenchTasks.Work, typeof(WorkMessage).FullName!, workKwargs,
            [Signatures.SignatureRecord.NewId()], [], SignatureStatus.Pending, SignatureStatus.Pending, "result", DateTimeOffset.UtcNow, 0);
        var storedRecord = Backends.Redis.RedisLayout.PackSignature(record);
        using var hardStop = new CancellationTokenSource();

        return
        [
            Time("redis: pack a signature's record (sign)", iterations, () => Backends.Redis.RedisLayout.PackSignature(record)),
            Time("redis: read a signature's record (GetSignatureAsync)", iterations, () => Backends.Redis.RedisLayout.ParseSignature(record.Id, storedRecord)),
            Time("worker: DI scope per run (CreateAsyncScope + dispose)", iterations, () =>
            {
                var scope = scopes.CreateAsyncScope();
                scope.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return scope;
            }),
            Time("worker: linked CancellationTokenSource (runs of tasks with a Timeout)", iterations, () =>
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
                return attempt.Token;
            }),
            Time("sign: new id (SignatureRecord.NewId)", iterations, () => SignatureRecordId()),
            Time("sign: bind 1 kwarg (KwargsBuilder.Add)", iterations, () => new KwargsBuilder(json).Add("index", 42)),
            Time("sign: bind 1 kwarg by-name (KwargsBuilder.FromObject, anonymous)", iterations, () => KwargsBuilder.FromObject(new { index = 42 }, json)),
            Time("run: serialize message", iterations, () => JsonSerializer.SerializeToUtf8Bytes(new WorkMessage(42), json)),
            Time("worker: compose task input (message + 1 kwarg)", iterations, () => { using var input = InputComposer.ComposeForRun(message, workKwargs, default); return input.Json.Length; }),
            Time("worker: invoke task (deserialize + handler + serialize result)", iterations, () => work.InvokeAsync(workInput, context, json, CancellationToken.None).AsTask().GetAwaiter().GetResult()),
            Time("worker: compose callback input (result + 1 kwarg, one pass)", iterations, () => { using var input = InputComposer.ComposeOverResult("result", result, doneKwargs, default); return input.Json.Length; }),
            Time("worker: invoke callback (deserialize + handler)", iterations, () => done.InvokeAsync(doneInput, context, json, CancellationToken.None).AsTask().GetAwaiter().GetResult()),
        ];
    }

    private static string SignatureRecordId() => Signatures.SignatureRecord.NewId();

    private static SectionCost Time<T>(string section, int iterations, Func<T> body)
    {
        for (var i = 0; i < Math.Min(iterations, 2_000); i++) GC.KeepAlive(body()); // JIT and tiering first
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++) GC.KeepAlive(body());
        var elapsed = Stopwatch.GetElapsedTime(started);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return new SectionCost(section, elapsed.TotalNanoseconds / iterations, allocated / (double)iterations);
    }
}
