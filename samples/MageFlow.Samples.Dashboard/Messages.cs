namespace MageFlow.Samples.Dashboard;

public sealed record GreetMessage(string Name);

public sealed record ChargeMessage(string OrderId, decimal Amount, string? Note = null);

public sealed record Receipt(string OrderId, decimal Charged);

public sealed record ReceiptMessage([property: ReturnValue] Receipt? Receipt, string Template);

public sealed record SupportMessage(string OrderId, decimal Amount, string? Note, string Channel);

public sealed record OrderMessage(string OrderId, int Quantity);

public sealed record ValidatedOrder(string OrderId, int Quantity);

public sealed record ReserveMessage([property: ReturnValue] ValidatedOrder? Order);

public sealed record Reservation(string OrderId, string Shelf);

public sealed record ShipMessage([property: ReturnValue] Reservation? Reservation, string Carrier = "post");

public sealed record ImageMessage(string File);

public sealed record ImagesMessage([property: ReturnValue] IReadOnlyList<string>? Thumbnails);

public sealed record ReportMessage(string Period);
