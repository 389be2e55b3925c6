namespace MageFlow.Testing.Tests.Tasks;

public record OrderMessage(string OrderId, decimal Amount, string? Priority = null);

public sealed record OrderReceipt(string OrderId, decimal Charged);

/// <summary>A success callback: the receipt lands in the [ReturnValue] member.</summary>
public sealed record ReceiptMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

/// <summary>A success callback without [ReturnValue]: the receipt lands in mageflow_results.</summary>
public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

/// <summary>An error callback: the failed order's fields plus the Channel bound when signing it.</summary>
public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
    : OrderMessage(OrderId, Amount, Priority);

public sealed record ValidatedOrder(string OrderId, decimal Amount);

/// <summary>The chain's second step: validate-order's result lands in Order; Currency comes from the chain's kwargs.</summary>
public sealed record ChargeMessage([property: ReturnValue] ValidatedOrder Order, string Currency = "EUR");

/// <summary>A swarm's success callback that gets every item's outcome.</summary>
public sealed record BatchSummaryMessage([property: ReturnValue] SwarmResults<OrderReceipt> Outcomes, string Batch);

/// <summary>A swarm's success callback that gets the succeeded items' results.</summary>
public sealed record BatchTotalMessage([property: ReturnValue] IReadOnlyList<OrderReceipt> Receipts);
