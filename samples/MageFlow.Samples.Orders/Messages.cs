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

/// <summary>What validate-order returns: the first step of the chain hands it to charge-order.</summary>
public sealed record ValidatedOrder(string OrderId, decimal Amount);

/// <summary>charge-order's message: in the chain, validate-order's result lands in the [ReturnValue] member.</summary>
public sealed record ChargeMessage([property: ReturnValue] ValidatedOrder Order);

/// <summary>ship-order's message: charge-order's receipt, plus a Carrier the chain binds for every step.</summary>
public sealed record ShipMessage([property: ReturnValue] OrderReceipt Receipt, string Carrier = "post");

/// <summary>What ship-order returns: the chain's last result.</summary>
public sealed record Shipment(string OrderId, string Carrier, string TrackingNumber);

/// <summary>The chain's success callback: the last step's shipment lands in the [ReturnValue] member.</summary>
public sealed record ShipmentConfirmationMessage([property: ReturnValue] Shipment Shipment, string Template);

/// <summary>The swarm's success callback: every item's outcome (receipt or error), in completion order.</summary>
public sealed record BatchSummaryMessage([property: ReturnValue] SwarmResults<OrderReceipt> Outcomes, string Batch);
