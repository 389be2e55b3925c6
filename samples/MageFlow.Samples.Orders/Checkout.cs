namespace MageFlow.Samples.Orders;

/// <summary>
/// The application's own code: what its checkout asks MageFlow to do. It signs and dispatches, workers run the tasks,
/// so its tests (tests/MageFlow.Samples.Orders.Tests) check what it dispatched with MageFlow.Testing's recorder.
/// </summary>
public sealed class Checkout(IMageFlow mage)
{
    /// <summary>Charges an order; a confirmation and an audit entry follow when it succeeds, an e-mail when it fails for good.</summary>
    public async Task<TaskSignature> PlaceOrderAsync(OrderMessage order)
    {
        var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
        var audit = await Audit.AsignAsync(mage, source: "checkout");
        var notify = await NotifyFailure.AsignAsync(mage, channel: "email");
        var process = await ProcessOrder.AsignAsync(mage, successCallbacks: [confirm, audit], errorCallbacks: [notify]);
        await process.RunAsync(order);
        return process;
    }

    /// <summary>Charges a batch, at most <paramref name="maxConcurrency"/> orders at once; the summary gets every outcome once all have finished.</summary>
    public async Task<SwarmSignature> ChargeBatchAsync(string batch, IEnumerable<OrderMessage> orders, int maxConcurrency)
    {
        var summary = await SummarizeBatch.AsignAsync(mage, batch: batch);
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = maxConcurrency }, successCallbacks: [summary], kwargs: new { priority = "batch" });
        foreach (var order in orders)
            await swarm.RunInSwarmAsync(await ProcessOrder.AsignAsync(mage), order); // starts as soon as a slot is free
        await swarm.CloseAsync(); // no more items: without this the swarm would never complete
        return swarm;
    }
}
