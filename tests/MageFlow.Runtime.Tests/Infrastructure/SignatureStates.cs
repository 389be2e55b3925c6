namespace MageFlow.Runtime.Tests.Infrastructure;

internal static class SignatureStates
{
    /// <summary>Status, last status and attempts as stored now: the three facts most rules are about.</summary>
    public static async Task<(SignatureStatus Status, SignatureStatus LastStatus, int Attempts)> StateAsync(this TaskSignature signature)
    {
        var info = await signature.GetInfoAsync();
        return (info.Status, info.LastStatus, info.Attempts);
    }
}
