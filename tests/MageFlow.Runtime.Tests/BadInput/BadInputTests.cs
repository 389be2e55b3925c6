using System.Text.Json;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Xunit.Sdk;

namespace MageFlow.Runtime.Tests.BadInput;

/// <summary>
/// Bad input through the public API, one named row per case, run unchanged against each backend
/// (<see cref="InMemoryBadInputTests"/>, <see cref="RedisBadInputTests"/>). Every case ends in exactly one of:
/// (a) a clear exception to the caller naming the task/member and types, nothing stored;
/// (b) the run ends Failed and its error callbacks fire once;
/// (c) a malformed queue entry is dropped and logged —
/// and then a canary run proves the worker still serves runs.
/// </summary>
public abstract class BadInputTests
{
    /// <summary>Points a client at this test's storage.</summary>
    protected abstract Action<MageFlowOptions> UseBackend();

    /// <summary>Points a client at a different storage of the same backend kind.</summary>
    protected abstract Action<MageFlowOptions> UseOtherStore();

    private protected abstract IStorageProbe Probe(LabCluster cluster);

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Public_api(string @case)
    {
        var (run, configure) = Table[@case];
        var lab = new Lab();
        await using var cluster = await LabCluster.StartAsync(lab, UseBackend(), configure);
        var c = new BadInputCase(cluster, lab, Probe(cluster));
        await run(new Ctx(c, this));
        await c.CanaryAsync();
    }

    private sealed record Ctx(BadInputCase C, BadInputTests Suite)
    {
        public IMageFlow Mage => C.Mage;
    }

    private sealed record Row(Func<Ctx, Task> Run, Action<MageFlowOptions>? Configure = null);

    private static readonly Action<MageFlowOptions> DeleteWhenDone = o => o.DoneTtl = TimeSpan.Zero;

    private static readonly string BigText = new('x', Lab.PayloadLimit + 1);

    private static readonly Dictionary<string, Row> Table = new(StringComparer.Ordinal)
    {
        // ---- rule 23: names that can never be a task ----
        ["sign by name: name with a comma"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process,order")),
        ["sign by name: name with a colon"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process:order")),
        ["sign by name: name with a newline"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process\norder")),
        ["sign by name: empty name"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "")),
        ["sign by name: whitespace name"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "  \t ")),
        ["sign by name: name with a BEL control character"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process\u0007order")),
        ["sign by name: name with a NUL character"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process\0order")),
        ["sign by name: name with a DEL control character"] = new(x => RefusedName(x, n => x.Mage.AsignAsync(n), "process\u007Forder")),
        ["sign typed: name with a comma"] = new(x => RefusedName(x, n => x.Mage.AsignAsync<OrderMessage>(n), "process,order")),
        ["sign typed: name with a colon"] = new(x => RefusedName(x, n => x.Mage.AsignAsync<OrderMessage>(n), "process:order")),
        ["sign typed: name with a newline"] = new(x => RefusedName(x, n => x.Mage.AsignAsync<OrderMessage>(n), "process\norder")),
        ["sign typed: name with a control character"] = new(x => RefusedName(x, n => x.Mage.AsignAsync<OrderMessage>(n), "process\u001Border")),
        ["sign typed: empty name"] = new(x => RefusedName(x, n => x.Mage.AsignAsync<OrderMessage>(n), "")),
        ["describe a task: name with a comma"] = new(x => RefusedName(x, Describe, "bad,task")),
        ["describe a task: name with a colon"] = new(x => RefusedName(x, Describe, "bad:task")),
        ["describe a task: name with a control character"] = new(x => RefusedName(x, Describe, "bad\u0001task")),
        ["describe a task: empty name"] = new(x => RefusedName(x, Describe, "")),
        ["sign by name: unknown task"] = new(x => x.C.RefusedAsync<UnknownTaskException>(() => x.Mage.AsignAsync("no-such-task"), "'no-such-task'")),

        // ---- kwargs that are not a JSON object ----
        ["sign: kwargs is an array"] = new(x => NotAnObject(x, new[] { 1, 2 })),
        ["sign: kwargs is a string"] = new(x => NotAnObject(x, "priority=high")),
        ["sign: kwargs is a number"] = new(x => NotAnObject(x, 42)),
        ["sign: kwargs is JSON null"] = new(x => NotAnObject(x, JsonDocument.Parse("null").RootElement)),
        ["sign: kwarg with an empty name"] = new(x => x.C.RefusedAsync<ArgumentException>(
            () => x.Mage.AsignAsync(Shop.ProcessOrder, new Dictionary<string, object> { [""] = 1 }), Shop.ProcessOrder)),
        ["sign: a null callback"] = new(x => x.C.RefusedAsync<ArgumentException>(
            () => x.Mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [null!]), Shop.ProcessOrder, "null")),
        ["kwargs update: kwargs is an array"] = new(async x =>
        {
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, new { priority = "low" });
            await Unchanged(x, order, () => x.C.RefusedAsync<ArgumentException>(() => order.Kwargs.UpdateAsync(new[] { 1 }), Shop.ProcessOrder, "JSON object"));
        }),
        ["run: call-time kwargs is an array"] = new(x => RefusedDispatch(x, o => o.RunAsync(BadInputCase.Order(), kwargs: new[] { 1 }), "JSON object")),
        ["run: call-time kwargs is a string"] = new(x => RefusedDispatch(x, o => o.RunAsync(BadInputCase.Order(), kwargs: "priority"), "JSON object")),

        // ---- rule 9: wrong JSON types, missing members, wrong messages ----
        ["run: string where decimal"] = new(x => Fails(x, o => o.RunAsync(new { orderId = "s", amount = "lots" }), "amount", "System.Decimal")),
        ["run: object where string"] = new(x => Fails(x, o => o.RunAsync(new { orderId = new { nested = 1 }, amount = 1m }), "orderId", "System.String")),
        ["run: array where object"] = new(x => Fails(x, o => o.RunAsync(new { orderId = "a", amount = 1m, address = new[] { 1, 2 } }), "address", typeof(Address).FullName!)),
        ["run: null where a non-nullable string"] = new(x => Fails(x, o => o.RunAsync(new { orderId = (string?)null, amount = 1m }), "orderId")),
        ["run: number too large for decimal"] = new(x => Fails(x, o => o.RunAsync(new { orderId = "big", amount = double.MaxValue }), "amount", "System.Decimal")),
        ["run: missing required member"] = new(x => Fails(x, o => o.RunAsync(new { amount = 1m }), "orderId")),
        ["run: message of the wrong type"] = new(x => Fails(x, o => o.RunAsync(new ConfirmationMessage(null, "t")), "orderId", typeof(OrderMessage).FullName!)),
        ["run: message is JSON null"] = new(x => Fails(x, o => o.RunAsync<OrderMessage?>(null), typeof(OrderMessage).FullName!)),
        ["run: message is a JSON array"] = new(x => Fails(x, o => o.RunAsync(new[] { 1, 2 }), typeof(OrderMessage).FullName!)),
        ["sign: bound kwarg of the wrong type"] = new(x => Fails(x, o => o.RunAsync(BadInputCase.Order()), new { amount = "lots" }, "amount", "System.Decimal")),
        ["run: call-time kwarg of the wrong type"] = new(x => Fails(x, o => o.RunAsync(BadInputCase.Order(), kwargs: new { amount = "lots" }), "amount", "System.Decimal")),
        ["kwargs update: kwarg of the wrong type"] = new(x => Fails(x, async o =>
        {
            await o.Kwargs.UpdateAsync(new { amount = new[] { 1 } });
            await o.RunAsync(BadInputCase.Order());
        }, "amount", "System.Decimal")),
        ["callback: result does not fit its message"] = new(async x =>
        {
            var marker = BadInputCase.NewId("sink");
            var sink = await x.C.ErrorSinkAsync(marker);
            var confirm = await x.Mage.AsignAsync(Shop.SendConfirmation, new { template = "t" }, errorCallbacks: [sink]);
            var describe = await x.Mage.AsignAsync(Shop.Describe, successCallbacks: [confirm]); // returns a string, not a receipt
            await describe.RunAsync(BadInputCase.Order());
            await x.C.FailedAsync(confirm, marker, TaskFailureKind.InvalidInput, 0,
                $"'{Shop.SendConfirmation}'", "receipt", typeof(ConfirmationMessage).FullName!, typeof(OrderReceipt).FullName!);
        }),

        // ---- lone surrogates: refused at the call (a), or the run fails as invalid input (b); never silently altered ----
        ["sign: lone surrogate in a kwarg name"] = new(x => RefusedOrInvalidInput(x,
            sink => x.Mage.AsignAsync(Shop.ProcessOrder, new Dictionary<string, object> { ["pri\uD800ority"] = "high" }, errorCallbacks: [sink]),
            o => o.RunAsync(BadInputCase.Order()))),
        ["sign: lone surrogate in a kwarg value"] = new(x => RefusedOrInvalidInput(x,
            sink => x.Mage.AsignAsync(Shop.ProcessOrder, new { priority = "high\uDC00" }, errorCallbacks: [sink]),
            o => o.RunAsync(BadInputCase.Order()))),
        ["run: lone surrogate in a message member name"] = new(x => RefusedOrInvalidInput(x,
            sink => x.Mage.AsignAsync(Shop.ProcessOrder, errorCallbacks: [sink]),
            o => o.RunAsync(new Dictionary<string, object> { ["orderId"] = BadInputCase.NewId(), ["amount"] = 1m, ["no\uD800te"] = "x" }))),
        ["run: lone surrogate in a message value"] = new(x => RefusedOrInvalidInput(x,
            sink => x.Mage.AsignAsync(Shop.ProcessOrder, errorCallbacks: [sink]),
            o => o.RunAsync(new OrderMessage("o-\uD800", 1m)))),
        ["run: lone surrogate in a call-time kwarg name"] = new(x => RefusedOrInvalidInput(x,
            sink => x.Mage.AsignAsync(Shop.ProcessOrder, errorCallbacks: [sink]),
            o => o.RunAsync(BadInputCase.Order(), kwargs: new Dictionary<string, object> { ["pri\uDBFFority"] = "x" }))),

        // ---- 200-deep JSON ----
        ["run: 200-deep JSON in the message"] = new(x => RefusedDispatch(x,
            o => o.RunAsync(new Dictionary<string, object?> { ["orderId"] = "deep", ["amount"] = 1m, ["address"] = Deep(200) }))),
        ["run: 200-deep JSON in call-time kwargs"] = new(x => RefusedDispatch(x, o => o.RunAsync(BadInputCase.Order(), kwargs: new { address = Deep(200) }))),
        ["sign: 200-deep JSON in kwargs"] = new(x => x.C.RefusedAsync<Exception>(() => x.Mage.AsignAsync(Shop.ProcessOrder, new { address = Deep(200) }), Shop.ProcessOrder)),
        ["kwargs update: 200-deep JSON"] = new(async x =>
        {
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, new { priority = "low" });
            await Unchanged(x, order, () => x.C.RefusedAsync<Exception>(() => order.Kwargs.UpdateAsync(new { address = Deep(200) }), Shop.ProcessOrder));
        }),

        // ---- contract §8: payloads over MaxPayloadBytes (64 KiB here) ----
        ["run: message over the payload limit"] = new(x => TooLargeDispatch(x, o => o.RunAsync(new OrderMessage(BadInputCase.NewId(), 1m, BigText)), "message")),
        ["run: call-time kwargs over the payload limit"] = new(x => TooLargeDispatch(x, o => o.RunAsync(BadInputCase.Order(), kwargs: new { priority = BigText }), "call-time kwargs")),
        ["sign: kwargs over the payload limit"] = new(x => TooLarge(x, () => x.Mage.AsignAsync(Shop.ProcessOrder, new { priority = BigText }), "kwargs")),
        ["sign: many small kwargs over the payload limit"] = new(x => TooLarge(x, () => x.Mage.AsignAsync(Shop.ProcessOrder,
            Enumerable.Range(0, 80).ToDictionary(i => $"k{i}", _ => new string('k', 1024))), "kwargs")),
        ["sign typed: kwargs over the payload limit"] = new(x => TooLarge(x, () => x.Mage.AsignAsync<OrderMessage>(Shop.ProcessOrder, new { priority = BigText }), "kwargs")),
        ["kwargs update: over the payload limit"] = new(async x =>
        {
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, new { priority = "low" });
            await Unchanged(x, order, () => TooLarge(x, () => order.Kwargs.UpdateAsync(new { priority = BigText }), "kwargs"));
        }),

        // ---- rule 20: results that cannot be stored fail the run at once, body ran once ----
        ["result: double.NaN"] = new(x => InvalidResult(x, Lab.NanResult)),
        ["result: cyclic object"] = new(x => InvalidResult(x, Lab.CyclicResult)),
        ["result: over the payload limit"] = new(async x =>
        {
            var failure = await InvalidResult(x, Lab.BigResult);
            Assert.True(failure.Error.Contains("65536", StringComparison.Ordinal) || failure.Error.Contains("65,536", StringComparison.Ordinal),
                $"The failure should name the limit (65536 bytes) but is: {failure.Error}");
        }),

        // ---- rule 22 and foreign callbacks ----
        ["callback: the same success callback passed twice"] = new(async x =>
        {
            var marker = BadInputCase.NewId("audit");
            var audit = await x.Mage.AsignAsync(Shop.Audit, new { source = marker });
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit, audit]);
            await order.RunAsync(BadInputCase.Order());
            await ExactlyOneAudit(x, marker);
        }),
        ["callback: the same error callback passed twice"] = new(async x =>
        {
            var marker = BadInputCase.NewId("sink");
            var sink = await x.C.ErrorSinkAsync(marker);
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, errorCallbacks: [sink, sink]);
            await order.RunAsync(BadInputCase.Order("fatal"));
            await x.C.FailedAsync(order, marker, TaskFailureKind.Error, 1, "is invalid");
        }),
        ["callback: from a client of another store"] = new(async x =>
        {
            var other = await x.C.Cluster.StartClientAsync(x.Suite.UseOtherStore());
            var foreign = await other.AsignAsync(Shop.Audit, new { source = "foreign" });
            await x.C.RefusedAsync<ArgumentException>(() => x.Mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [foreign]), foreign.Id);
        }),
        ["callback: from another client, same store"] = new(async x =>
        {
            var other = await x.C.Cluster.StartClientAsync(x.Suite.UseBackend());
            var marker = BadInputCase.NewId("audit");
            var audit = await other.AsignAsync(Shop.Audit, new { source = marker });
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
            await order.RunAsync(BadInputCase.Order());
            await ExactlyOneAudit(x, marker);
        }),

        // ---- missing, hostile and deleted signature ids ----
        ["get: unknown id"] = new(async x => Assert.Null(await x.Mage.GetSignatureAsync("AAAAAAAAAAAAAAAA"))),
        ["get: ids with , : newline and control chars"] = new(async x =>
        {
            var order = await x.Mage.AsignAsync(Shop.ProcessOrder);
            foreach (var id in new[] { $"{order.Id},{order.Id}", $"{order.Id}:x", $":s:{order.Id}", $"{order.Id}\n", "a\u0000b", "*", "?" })
                Assert.True(await x.Mage.GetSignatureAsync(id) is null, $"GetSignatureAsync(\"{BadInputCase.Escape(id)}\") found a signature.");
        }),
        ["get: empty id"] = new(x => x.C.RefusedAsync<ArgumentException>(() => x.Mage.GetSignatureAsync(""), "id")),
        ["kwargs update: deleted signature"] = new(async x =>
        {
            var gone = await DeletedAsync(x);
            await x.C.RefusedAsync<SignatureNotFoundException>(() => gone.Kwargs.UpdateAsync(new { text = "y" }), gone.Id);
            Assert.Null(await x.Mage.GetSignatureAsync(gone.Id));
        }, DeleteWhenDone),
        ["kwargs get: deleted signature"] = new(async x =>
        {
            var gone = await DeletedAsync(x);
            await x.C.RefusedAsync<SignatureNotFoundException>(() => gone.Kwargs.GetAsync(), gone.Id);
        }, DeleteWhenDone),
        ["status: deleted signature"] = new(async x =>
        {
            var gone = await DeletedAsync(x);
            await x.C.RefusedAsync<SignatureNotFoundException>(() => gone.GetStatusAsync(), gone.Id);
        }, DeleteWhenDone),
        ["run: a signature that already finished"] = new(async x =>
        {
            var marker = BadInputCase.NewId("done");
            var note = await x.Mage.AsignAsync(Shop.Note, new { text = marker });
            await note.RunAsync(new NoteMessage(Text: marker));
            await BadInputCase.WaitAsync(async () => await note.GetStatusAsync() == SignatureStatus.Done, () => Task.FromResult("the note never finished"));
            await note.RunAsync(new NoteMessage(Text: marker)); // rule 13: not executed again
            await x.C.DroppedAsync(Microsoft.Extensions.Logging.LogLevel.Information, Shop.Note, null, note.Id);
            Assert.Equal(1, x.C.BodyRuns(note.Id));
            Assert.Equal((SignatureStatus.Done, SignatureStatus.Active, 1), await note.StateAsync());
        }),
        ["run: deleted signature"] = new(async x =>
        {
            var gone = await DeletedAsync(x);
            var runsBefore = x.C.BodyRuns(gone.Id);
            try
            {
                await gone.RunAsync(new NoteMessage(Text: "again"));
            }
            catch (SignatureNotFoundException ex)
            {
                BadInputCase.MessageContains(ex, gone.Id); // (a) refused at dispatch: also fine
                await x.C.CanaryAsync();
                return;
            }
            await x.C.DroppedAsync(Shop.Note, null, gone.Id); // (c) rule 10
            Assert.Equal(runsBefore, x.C.BodyRuns(gone.Id));
            Assert.Null(await x.Mage.GetSignatureAsync(gone.Id));
        }, DeleteWhenDone),
    };

    // ---- case helpers ----

    private static Task Describe(string name)
    {
        TaskDescriptor.Create<OrderMessage>(name, (_, _, _) => ValueTask.CompletedTask);
        return Task.CompletedTask;
    }

    /// <summary>Rule 23: refused with an ArgumentException whose message quotes the name (as is, or escaped).</summary>
    private static async Task RefusedName(Ctx x, Func<string, Task> act, string name)
    {
        var error = await x.C.RefusedAsync<ArgumentException>(() => act(name));
        // As is, JSON-escaped, or with each control character written as \uXXXX.
        var forms = new[]
        {
            name,
            BadInputCase.Escape(name),
            string.Concat(name.Select(ch => char.IsControl(ch) ? $"\\u{(int)ch:X4}" : ch.ToString())),
            string.Concat(name.Select(ch => char.IsControl(ch) ? $"\\u{(int)ch:x4}" : ch.ToString())),
        };
        var quoted = forms.SelectMany(f => new[] { $"'{f}'", $"\"{f}\"" }).ToArray();
        Assert.True(quoted.Any(q => error.Message.Contains(q, StringComparison.Ordinal)),
            $"The ArgumentException should quote the task name '{BadInputCase.Escape(name)}' but is: {error.Message}");
    }

    private static Task NotAnObject(Ctx x, object kwargs) =>
        x.C.RefusedAsync<ArgumentException>(() => x.Mage.AsignAsync(Shop.ProcessOrder, kwargs), Shop.ProcessOrder, "JSON object");

    /// <summary>(a) at dispatch: the call throws naming the task, and nothing runs.</summary>
    private static async Task RefusedDispatch(Ctx x, Func<TaskSignature, Task> dispatch, params string[] mustContain)
    {
        var order = await x.Mage.AsignAsync(Shop.ProcessOrder);
        await x.C.RefusedAsync<Exception>(() => dispatch(order), [Shop.ProcessOrder, .. mustContain]);
        Assert.Equal(0, x.C.BodyRuns(order.Id));
        Assert.Equal(0L, await x.C.Storage.QueueLengthAsync(Shop.ProcessOrder));
        Assert.Equal(SignatureStatus.Pending, await order.GetStatusAsync());
    }

    private static async Task<MagePayloadTooLargeException> TooLarge(Ctx x, Func<Task> act, string payload)
    {
        var error = await x.C.RefusedAsync<MagePayloadTooLargeException>(act, Shop.ProcessOrder);
        Assert.Equal(Shop.ProcessOrder, error.TaskName);
        Assert.Equal(payload, error.Payload);
        Assert.Equal(Lab.PayloadLimit, error.LimitBytes);
        Assert.True(error.SizeBytes > Lab.PayloadLimit, $"SizeBytes {error.SizeBytes} should be over the limit.");
        return error;
    }

    private static async Task TooLargeDispatch(Ctx x, Func<TaskSignature, Task> dispatch, string payload)
    {
        var order = await x.Mage.AsignAsync(Shop.ProcessOrder);
        await TooLarge(x, () => dispatch(order), payload);
        Assert.Equal(0, x.C.BodyRuns(order.Id));
        Assert.Equal(0L, await x.C.Storage.QueueLengthAsync(Shop.ProcessOrder));
        Assert.Equal(SignatureStatus.Pending, await order.GetStatusAsync());
    }

    /// <summary>The signature's kwargs are the same after the (refused) update.</summary>
    private static async Task Unchanged(Ctx x, TaskSignature order, Func<Task> refusedUpdate)
    {
        var before = (await order.Kwargs.GetAsync()).GetRawText();
        await refusedUpdate();
        Assert.Equal(before, (await order.Kwargs.GetAsync()).GetRawText());
    }

    /// <summary>(b) for an input that does not fit process-order: failed at once, body never ran, error names task, member and types.</summary>
    private static Task Fails(Ctx x, Func<TaskSignature, Task> dispatch, params string[] errorContains) => Fails(x, dispatch, null, errorContains);

    private static async Task Fails(Ctx x, Func<TaskSignature, Task> dispatch, object? kwargs, params string[] errorContains)
    {
        var marker = BadInputCase.NewId("sink");
        var sink = await x.C.ErrorSinkAsync(marker);
        var order = await x.Mage.AsignAsync(Shop.ProcessOrder, kwargs, errorCallbacks: [sink]);
        await dispatch(order);
        await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, [$"'{Shop.ProcessOrder}'", .. errorContains]);
        Assert.Equal(1, (await order.GetInfoAsync()).Attempts);
    }

    /// <summary>Either (a) refused at signing/dispatch naming the task, or (b) the run fails as InvalidInput; never run on altered data.</summary>
    private static async Task RefusedOrInvalidInput(Ctx x, Func<TaskSignature, Task<TaskSignature>> sign, Func<TaskSignature, Task> dispatch)
    {
        var marker = BadInputCase.NewId("sink");
        var sink = await x.C.ErrorSinkAsync(marker);
        TaskSignature? order = null;
        try
        {
            order = await sign(sink);
            await dispatch(order);
        }
        catch (Exception ex) when (ex is not XunitException)
        {
            BadInputCase.MessageContains(ex, Shop.ProcessOrder);
            await x.C.CanaryAsync();
            if (order is not null) Assert.Equal(0, x.C.BodyRuns(order.Id));
            return;
        }
        await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, $"'{Shop.ProcessOrder}'");
    }

    private static async Task<TaskFailure> InvalidResult(Ctx x, string task)
    {
        var marker = BadInputCase.NewId("sink");
        var sink = await x.C.ErrorSinkAsync(marker);
        var successMarker = BadInputCase.NewId("success");
        var success = await x.Mage.AsignAsync(Shop.Note, new { text = successMarker });
        var run = await x.Mage.AsignAsync(task, successCallbacks: [success], errorCallbacks: [sink]);
        await run.RunAsync(BadInputCase.Order());
        var failure = await x.C.FailedAsync(run, marker, TaskFailureKind.InvalidResult, 1);
        Assert.Empty(x.C.NotesWith(successMarker));
        return failure;
    }

    private static async Task ExactlyOneAudit(Ctx x, string marker)
    {
        IReadOnlyList<Infrastructure.Received> Audits() => x.C.Recorder.Of(Shop.Audit).Where(r => ((AuditMessage)r.Message!).Source == marker).ToArray();
        await BadInputCase.WaitAsync(() => Task.FromResult(Audits().Count > 0), () => Task.FromResult($"the success callback never fired. Logged: {x.C.LogText()}"));
        await x.C.CanaryAsync();
        Assert.True(Audits().Count == 1, $"The success callback fired {Audits().Count} times; it must fire exactly once (rule 22).");
    }

    /// <summary>A note signature that ran and was deleted (DoneTtl = 0).</summary>
    private static async Task<TaskSignature> DeletedAsync(Ctx x)
    {
        var marker = BadInputCase.NewId("gone");
        var note = await x.Mage.AsignAsync(Shop.Note, new { text = marker });
        await note.RunAsync(new NoteMessage(Text: marker));
        await BadInputCase.WaitAsync(async () => await x.Mage.GetSignatureAsync(note.Id) is null, () => Task.FromResult("the finished note was not deleted"));
        return note;
    }

    /// <summary>A JSON object nested <paramref name="depth"/> levels deep.</summary>
    internal static Dictionary<string, object?> Deep(int depth)
    {
        var root = new Dictionary<string, object?>();
        var current = root;
        for (var i = 1; i < depth; i++)
        {
            var next = new Dictionary<string, object?>();
            current["city"] = next;
            current = next;
        }
        current["city"] = "bottom";
        return root;
    }
}
