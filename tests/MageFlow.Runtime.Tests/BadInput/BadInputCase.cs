using System.Text.Json;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Sdk;

namespace MageFlow.Runtime.Tests.BadInput;

/// <summary>How a test reaches the storage of its backend, to prove "nothing stored or changed".</summary>
internal interface IStorageProbe
{
    /// <summary>How many signatures are stored now.</summary>
    Task<int> SignatureCountAsync();

    /// <summary>How many entries a task's queue holds now (ready or pending).</summary>
    Task<long> QueueLengthAsync(string taskName);
}

/// <summary>
/// One bad-input case running: the cluster, the recording tasks, and the three allowed endings —
/// (a) <see cref="RefusedAsync{TException}"/>, (b) <see cref="FailedAsync"/>, (c) <see cref="DroppedAsync(string, string, string[])"/> —
/// each followed by the canary that proves the worker is still alive.
/// </summary>
internal sealed class BadInputCase(LabCluster cluster, Lab lab, IStorageProbe storage)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(12);

    public LabCluster Cluster => cluster;

    public IMageFlow Mage => cluster.Client;

    public Lab Lab => lab;

    public Recorder Recorder => lab.Recorder;

    public IStorageProbe Storage => storage;

    public static string NewId(string prefix = "o") => $"{prefix}-{Guid.NewGuid():N}";

    public static OrderMessage Order(string prefix = "o") => new(NewId(prefix), 1m);

    /// <summary>A note signature to use as an error callback; it records runs whose text is <paramref name="marker"/>.</summary>
    public Task<TaskSignature> ErrorSinkAsync(string marker) => Mage.AsignAsync(Shop.Note, new { text = marker });

    public IReadOnlyList<Received> NotesWith(string marker) =>
        Recorder.Of(Shop.Note).Where(r => ((NoteMessage)r.Message!).Text == marker).ToArray();

    public int BodyRuns(string signatureId) => Recorder.All.Count(r => r.SignatureId == signatureId);

    /// <summary>A normal task with a success callback: it must complete and its callback fire.</summary>
    public async Task CanaryAsync()
    {
        var marker = NewId("canary");
        var note = await Mage.AsignAsync(Shop.Note, new { text = marker });
        var touch = await Mage.AsignAsync(Shop.Touch, successCallbacks: [note]);
        await touch.RunAsync(new OrderMessage(NewId("canary"), 1m));
        await WaitAsync(() => Task.FromResult(NotesWith(marker).Count > 0),
            () => Task.FromResult($"the canary (a normal task and its success callback) did not complete: the worker is not serving runs any more. Logged: {LogText()}"));
    }

    /// <summary>
    /// Queues canary runs without waiting for them, so they share a read and a group-committed transition with a
    /// bad entry: two note runs (the note queue is read before process-order's, so the first goes alone and the
    /// second joins the bad entry's batch) and a touch run with a success callback (read after it).
    /// </summary>
    public async Task<IReadOnlyList<(string Marker, TaskSignature Signature)>> QueueCanaryAsync()
    {
        var canaries = new List<(string, TaskSignature)>();
        for (var i = 0; i < 2; i++)
        {
            var marker = NewId("canary");
            var note = await Mage.AsignAsync(Shop.Note, new { text = marker });
            await note.RunAsync(new NoteMessage(Text: marker));
            canaries.Add((marker, note));
        }
        var last = NewId("canary");
        var callback = await Mage.AsignAsync(Shop.Note, new { text = last });
        var touch = await Mage.AsignAsync(Shop.Touch, successCallbacks: [callback]);
        await touch.RunAsync(new OrderMessage(NewId("canary"), 1m));
        canaries.Add((last, touch));
        return canaries;
    }

    /// <summary>
    /// The canaries queued with the bad entry complete, each on its first delivery (rule 21: a failing item in a
    /// group-committed batch fails only its own caller; a canary that completes only on a later delivery had its
    /// first one failed by its batch-mate and was taken over after the visibility timeout).
    /// </summary>
    public async Task WaitForCanaryAsync(IReadOnlyList<(string Marker, TaskSignature Signature)> canaries)
    {
        foreach (var (marker, signature) in canaries)
        {
            await WaitAsync(() => Task.FromResult(NotesWith(marker).Count > 0),
                async () => $"a canary queued in the same batch as the bad entry did not complete (rule 21: a failing item fails only its own run). Canary {signature}: {await TryStateAsync(signature.Id)}. Logged: {LogText()}");
            var state = await signature.GetInfoAsync();
            Assert.True(state.Attempts == 1,
                $"A canary queued in the same batch as the bad entry ({signature}) completed only on delivery {state.Attempts}: the bad entry failed its batch-mates' first delivery (rule 21). Logged: {LogText()}");
        }
    }

    public string LogText() => string.Join(" || ", cluster.Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Level}: {e.Message}").TakeLast(6));

    // ---- (a) refused ----

    /// <summary>
    /// (a) The call throws <typeparamref name="TException"/> (or a subclass) whose message holds every one of
    /// <paramref name="mustContain"/>; no signature was stored; the worker still serves runs.
    /// </summary>
    public async Task<TException> RefusedAsync<TException>(Func<Task> act, params string[] mustContain) where TException : Exception
    {
        var before = await storage.SignatureCountAsync();
        Exception? thrown = null;
        try
        {
            await act();
        }
        catch (Exception ex)
        {
            thrown = ex;
        }
        var wanted = mustContain.Length == 0 ? typeof(TException).Name : $"{typeof(TException).Name} (message containing {Quote(mustContain)})";
        if (thrown is null)
            throw new XunitException($"Expected {wanted}, but the call succeeded.");
        if (thrown is not TException expected)
            throw new XunitException($"Expected {wanted}, got {thrown.GetType().FullName}: {thrown.Message}");
        MessageContains(expected, mustContain);
        Assert.True(before == await storage.SignatureCountAsync(), $"The refused call stored something: {before} signature(s) before, {await storage.SignatureCountAsync()} after.");
        await CanaryAsync();
        return expected;
    }

    public static void MessageContains(Exception exception, params string[] mustContain)
    {
        foreach (var text in mustContain)
            Assert.True(exception.Message.Contains(text, StringComparison.Ordinal),
                $"The {exception.GetType().Name} message should contain \"{Escape(text)}\" but is: {exception.Message}");
    }

    // ---- (b) failed ----

    /// <summary>
    /// (b) The run of <paramref name="signature"/> ends Failed and the error callback whose text is
    /// <paramref name="marker"/> fires exactly once, with a failure naming the signature, of the given kind, whose
    /// error holds <paramref name="errorContains"/>; the body ran <paramref name="bodyRuns"/> time(s).
    /// </summary>
    public async Task<TaskFailure> FailedAsync(TaskSignature signature, string marker, TaskFailureKind kind, int bodyRuns, params string[] errorContains)
    {
        await WaitForErrorCallbackAsync(signature.Id, signature.TaskName, marker);
        await CanaryAsync();
        var fired = NotesWith(marker);
        Assert.True(fired.Count == 1, $"The error callback fired {fired.Count} times; it must fire exactly once.");
        Assert.Equal(SignatureStatus.Failed, await signature.GetStatusAsync());
        Assert.True(BodyRuns(signature.Id) == bodyRuns,
            $"The body of {signature.TaskName} ran {BodyRuns(signature.Id)} time(s); expected {bodyRuns} (an error outside the body fails the run at once, rule 20).");
        var failure = fired[0].Failure;
        Assert.NotNull(failure);
        Assert.Equal(signature.Id, failure.SignatureId);
        Assert.Equal(signature.TaskName, failure.TaskName);
        foreach (var text in errorContains)
            Assert.True(failure.Error.Contains(text, StringComparison.Ordinal), $"The failure's error should contain \"{Escape(text)}\" but is: {failure.Error}");
        Assert.True(failure.Kind == kind, $"TaskContext.Failure.Kind should be {kind} but is {failure.Kind} (error: {failure.Error}).");
        return failure;
    }

    /// <summary>Waits for the error callback, failing fast (with what happened instead) when the run completed.</summary>
    public Task WaitForErrorCallbackAsync(string signatureId, string taskName, string marker) =>
        WaitAsync(async () =>
        {
            if (NotesWith(marker).Count > 0) return true;
            var stored = await Mage.GetSignatureAsync(signatureId);
            if (stored is not null && await stored.GetStatusAsync() == SignatureStatus.Done)
                throw new XunitException($"The run of {taskName} {signatureId} completed (Done, body ran {BodyRuns(signatureId)} time(s)) instead of failing: the bad input was accepted.");
            return false;
        }, async () =>
        {
            var stored = await TryStateAsync(signatureId);
            return $"the error callback of {taskName} {signatureId} never fired. Signature now: {stored}; body ran {BodyRuns(signatureId)} time(s). Logged: {LogText()}";
        });

    public async Task<string> TryStateAsync(string signatureId)
    {
        try
        {
            var stored = await Mage.GetSignatureAsync(signatureId);
            return stored is null ? "gone" : (await stored.GetInfoAsync()).ToString();
        }
        catch (Exception ex)
        {
            return $"unreadable ({ex.GetType().Name}: {ex.Message})";
        }
    }

    // ---- (c) dropped ----

    /// <summary>
    /// (c) The queue entry was dropped (the task's queue drains, the body never ran for <paramref name="signatureId"/>)
    /// and a warning or error naming one of <paramref name="loggedOneOf"/> was logged.
    /// </summary>
    public Task DroppedAsync(string taskName, string? signatureId, params string[] loggedOneOf) =>
        DroppedAsync(LogLevel.Warning, taskName, signatureId, loggedOneOf);

    /// <summary>(c) as above, logged at <paramref name="level"/> or above.</summary>
    public async Task DroppedAsync(LogLevel level, string taskName, string? signatureId, params string[] loggedOneOf)
    {
        await CanaryAsync();
        await WaitAsync(async () => await storage.QueueLengthAsync(taskName) == 0 && cluster.InFlight == 0,
            async () => $"the queue of {taskName} still holds {await storage.QueueLengthAsync(taskName)} entr(y/ies): the bad entry was neither run nor dropped. Logged: {LogText()}");
        if (signatureId is not null)
            Assert.True(BodyRuns(signatureId) == 0, $"The body ran {BodyRuns(signatureId)} time(s) for the dropped entry of {signatureId}.");
        await WaitAsync(() => Task.FromResult(loggedOneOf.Any(text => cluster.Logs.Logged(level, text))),
            () => Task.FromResult($"nothing at {level} or above named {Quote(loggedOneOf)}. Logged: {LogText()}"));
    }

    // ---- helpers ----

    public static async Task WaitAsync(Func<Task<bool>> condition, Func<Task<string>> explain, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new XunitException($"Timed out after {(timeout ?? Wait).TotalSeconds:0}s: {await explain()}");
            await Task.Delay(20);
        }
    }

    public static string Escape(string text) => JsonSerializer.Serialize(text)[1..^1];

    private static string Quote(string[] texts) => string.Join(", ", texts.Select(t => $"\"{Escape(t)}\""));
}
