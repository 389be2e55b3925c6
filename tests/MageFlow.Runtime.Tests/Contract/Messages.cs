namespace MageFlow.Runtime.Tests.Contract;

public sealed record Address(string? City = null, string? Zip = null, string? Street = null);

public record OrderMessage(string OrderId, decimal Amount, string? Priority = null, Address? Address = null);

public sealed record OrderReceipt(string OrderId, decimal Charged);

public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
    : OrderMessage(OrderId, Amount, Priority);

public sealed record NoteMessage(string? MageflowResults = null, string? Text = null);

public sealed record ShipMessage([property: ReturnValue] OrderReceipt? Receipt, string? Carrier = null);

public sealed record SummaryMessage([property: ReturnValue] List<OrderReceipt>? Receipts, string? Batch = null);

public sealed record OutcomesMessage([property: ReturnValue] SwarmResults<OrderReceipt>? Outcomes, string? Batch = null);

public sealed record MeasuresMessage([property: ReturnValue] SwarmResults<double>? Outcomes);
