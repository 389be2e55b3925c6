namespace MageFlow.Samples.Dashboard;

/// <summary>The signatures the sample seeds, by what they show on the dashboard.</summary>
/// <param name="Greeting">A task that succeeds: Done.</param>
/// <param name="Charge">A task with a success and an error callback that succeeds: Done, its receipt callback runs.</param>
/// <param name="DeclinedCharge">A task that fails after one retry, with hostile text in its kwargs and error: Failed.</param>
/// <param name="SuspendedGreeting">A task suspended before its run arrived: Suspended, one run parked.</param>
/// <param name="Report">A task that runs for an hour: Active until someone interrupts or cancels it.</param>
/// <param name="Fulfilment">A chain whose three steps succeed: Done.</param>
/// <param name="OversizedFulfilment">A chain whose second step fails: Failed, its third step never runs.</param>
/// <param name="Thumbnails">A swarm of six items (one fails) with at most two running at once: Done.</param>
public sealed record SampleData(
    string Greeting,
    string Charge,
    string DeclinedCharge,
    string SuspendedGreeting,
    string Report,
    string Fulfilment,
    string OversizedFulfilment,
    string Thumbnails)
{
    /// <summary>A script element: the dashboard must show it as text, never run it.</summary>
    public const string ScriptInjection = "<script>alert(1)</script>";

    /// <summary>An attempt to leave an attribute and add an element: shown as text too.</summary>
    public const string AttributeInjection = "\"><img src=x onerror=alert(1)>";

    public static async Task<SampleData> SeedAsync(IMageFlow mage)
    {
        var greeting = await Greet.AsignAsync(mage);
        await greeting.RunAsync(new GreetMessage("Ada"));

        var charge = await ChargeCard.AsignAsync(mage, note: "gift wrap",
            successCallbacks: [await SendReceipt.AsignAsync(mage, template: "receipt")],
            errorCallbacks: [await NotifySupport.AsignAsync(mage, channel: "email")]);
        await charge.RunAsync(new ChargeMessage("o-1", 40m));

        // Data is stored as given: the dashboard encodes it wherever it shows it.
        var declined = await ChargeCard.AsignAsync(mage, note: ScriptInjection,
            successCallbacks: [await SendReceipt.AsignAsync(mage, template: "receipt")],
            errorCallbacks: [await NotifySupport.AsignAsync(mage, channel: "pager")]);
        await declined.RunAsync(new ChargeMessage(AttributeInjection, 250m));

        var suspended = await Greet.AsignAsync(mage);
        await suspended.SuspendAsync();
        await suspended.RunAsync(new GreetMessage("Grace"));

        var report = await BuildReport.AsignAsync(mage);
        await report.RunAsync(new ReportMessage("2026-Q4"));

        var fulfilment = await Fulfil(mage);
        await fulfilment.RunAsync(new OrderMessage("o-2", SampleTasks.StockOnHand - 7));
        var oversized = await Fulfil(mage);
        await oversized.RunAsync(new OrderMessage("o-3", SampleTasks.StockOnHand + 5));

        var thumbnails = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 2 },
            successCallbacks: [await CountThumbnails.AsignAsync(mage)]);
        foreach (var file in new[] { "cat.png", "dog.png", "corrupt.png", "owl.png", "fox.png", "elk.png" })
            await thumbnails.RunInSwarmAsync(await ResizeImage.AsignAsync(mage), new ImageMessage(file));
        await thumbnails.CloseAsync();

        return new SampleData(greeting.Id, charge.Id, declined.Id, suspended.Id, report.Id, fulfilment.Id, oversized.Id, thumbnails.Id);
    }

    private static async Task<ChainSignature> Fulfil(IMageFlow mage) =>
        await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), await ReserveStock.AsignAsync(mage), await ShipOrder.AsignAsync(mage)],
            kwargs: new { carrier = "ups" });
}
