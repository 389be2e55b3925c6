namespace MageFlow.Analyzers;

/// <summary>The IDs of every MageFlow diagnostic (fixed by the public contract), shared by analyzers, fixers, tests and docs.</summary>
public static class DiagnosticIds
{
    public const string ReturnValueTypeMismatch = "MAGE001";
    public const string ReturnValueDropped = "MAGE002";
    public const string ErrorCallbackMemberWithoutSource = "MAGE003";
    public const string MultipleReturnValueMembers = "MAGE004";
    public const string UnsupportedTaskMethod = "MAGE005";
    public const string DuplicateTaskName = "MAGE006";
    /// <summary>A result does not fit where it goes: a chain step cannot hold the previous step's, a typed swarm cannot hold an item's.</summary>
    public const string WorkflowResultTypeMismatch = "MAGE007";
}
