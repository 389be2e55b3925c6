namespace MageFlow.EndToEnd.Tests.Tasks;

public record OrderMessage(string OrderId, decimal Amount, string? Priority = null);

public sealed record OrderReceipt(string OrderId, decimal Charged);

/// <summary>Success callback: the task's return value is injected into <see cref="Receipt"/>.</summary>
public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

/// <summary>Success callback without [ReturnValue]: the result arrives through the mageflow_results fallback.</summary>
public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

/// <summary>Error callback: the failed task's own message plus the channel bound when signing the callback.</summary>
public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
    : OrderMessage(OrderId, Amount, Priority);
