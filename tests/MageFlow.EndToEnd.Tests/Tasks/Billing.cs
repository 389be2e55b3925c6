using System.Collections.Concurrent;

namespace MageFlow.EndToEnd.Tests.Tasks;

public interface IPaymentGateway
{
    decimal Charge(string orderId, decimal amount);
}

/// <summary>Adds a fixed fee and remembers each charge, so tests can tell the DI instance was used.</summary>
public sealed class FeePaymentGateway : IPaymentGateway
{
    public const decimal Fee = 1.5m;

    public ConcurrentDictionary<string, decimal> Charges { get; } = new();

    public decimal Charge(string orderId, decimal amount)
    {
        Charges[orderId] = amount + Fee;
        return amount + Fee;
    }
}

/// <summary>An instance task: the worker resolves the class (and its dependency) from DI.</summary>
public sealed class Billing(IPaymentGateway gateway)
{
    [MageTask]
    public Task<OrderReceipt> Charge(OrderMessage message, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        TaskRecorder.Record(message.OrderId, "charge", message);
        return Task.FromResult(new OrderReceipt(message.OrderId, gateway.Charge(message.OrderId, message.Amount)));
    }
}
