using MageFlow;

namespace MageFlow.Samples.Orders;

public record OrderMessage(string OrderId, decimal Amount, string? Priority = null);

public sealed record OrderReceipt(string OrderId, decimal Charged);

/// <summary>A success callback: the receipt lands in the [ReturnValue] member.</summary>
public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

/// <summary>A success callback without [ReturnValue]: the receipt lands in MageflowResults ("mageflow_results").</summary>
public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

/// <summary>An error callback: the failed order's own fields plus the Channel bound when signing it.</summary>
public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
    : OrderMessage(OrderId, Amount, Priority);

/// <summary>What pack-order returns: the typed result RunAndWaitAsync hands back.</summary>
public sealed record PackingSlip(string OrderId, int Parcels);
