using System.Collections.Concurrent;

namespace MageFlow.Testing.Tests.Tasks;

/// <summary>Counts each body's runs per order, so a test can tell whether a body ran (and how often).</summary>
public static class BodyRuns
{
    private static readonly ConcurrentDictionary<string, int> Counts = new(StringComparer.Ordinal);

    public static void Ran(string task, string orderId) => Counts.AddOrUpdate($"{task}/{orderId}", 1, (_, count) => count + 1);

    public static int Of(string task, string orderId) => Counts.GetValueOrDefault($"{task}/{orderId}");
}

public static class ShopTasks
{
    /// <summary>Orders of this amount are declined on every attempt.</summary>
    public const decimal DeclinedAmount = 666m;

    [MageTask("charge-card", Retries = 2)]
    public static OrderReceipt ChargeCard(OrderMessage message)
    {
        BodyRuns.Ran("charge-card", message.OrderId);
        return message.Amount == DeclinedAmount
            ? throw new InvalidOperationException($"card declined for {message.OrderId}")
            : new OrderReceipt(message.OrderId, message.Amount);
    }

    /// <summary>Succeeds on its sixth attempt, the last its retries allow: more attempts than a worker allows stalls.</summary>
    [MageTask("reserve-stock", Retries = 5)]
    public static OrderReceipt ReserveStock(OrderMessage message)
    {
        BodyRuns.Ran("reserve-stock", message.OrderId);
        return BodyRuns.Of("reserve-stock", message.OrderId) < 6
            ? throw new InvalidOperationException($"no stock yet for {message.OrderId}")
            : new OrderReceipt(message.OrderId, message.Amount);
    }

    [MageTask]
    public static Task SendReceipt(ReceiptMessage message) => Task.CompletedTask;

    [MageTask]
    public static Task Audit(AuditMessage message) => Task.CompletedTask;

    [MageTask]
    public static Task NotifyFailure(OrderFailedMessage message) => Task.CompletedTask;

    [MageTask]
    public static ValidatedOrder ValidateOrder(OrderMessage message) => new(message.OrderId, message.Amount);

    [MageTask]
    public static OrderReceipt ChargeValidated(ChargeMessage message) => new(message.Order.OrderId, message.Order.Amount);

    [MageTask]
    public static Task SummarizeBatch(BatchSummaryMessage message) => Task.CompletedTask;

    [MageTask]
    public static Task TotalBatch(BatchTotalMessage message) => Task.CompletedTask;
}

/// <summary>A service an instance task takes from the container.</summary>
public sealed class Ledger
{
    public ConcurrentQueue<string> Entries { get; } = new();
}

/// <summary>An instance task: resolved from a scope of the container when it runs.</summary>
public sealed class Bookkeeping(Ledger ledger)
{
    [MageTask]
    public OrderReceipt BookOrder(OrderMessage message)
    {
        ledger.Entries.Enqueue($"{message.OrderId}: {message.Amount}");
        return new OrderReceipt(message.OrderId, message.Amount);
    }
}
