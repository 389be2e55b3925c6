namespace MageFlow;

/// <summary>
/// Marks the member of a success-callback message that receives the finished task's return value.
/// Without it, a member named <c>MageflowResults</c> (wire name <c>mageflow_results</c>) receives it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
public sealed class ReturnValueAttribute : Attribute;
