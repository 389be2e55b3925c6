using System.Security.Cryptography;

namespace MageFlow.Signatures;

/// <summary>
/// A signature as stored (semantics rule 1). Kwargs are top-level wire names with UTF-8 JSON values so a
/// backend can store and update each one on its own (rule 5) without re-encoding the others.
/// </summary>
internal sealed record SignatureRecord(
    string Id,
    string TaskName,
    string MessageTypeId,
    IReadOnlyList<KeyValuePair<string, byte[]>> Kwargs,
    IReadOnlyList<string> SuccessCallbackIds,
    IReadOnlyList<string> ErrorCallbackIds,
    SignatureStatus Status,
    SignatureStatus LastStatus,
    string ReturnField,
    DateTimeOffset CreatedAt,
    int Attempts)
{
    /// <summary>16 URL-safe characters, 96 random bits: short keys keep Redis hashes compact.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        return System.Buffers.Text.Base64Url.EncodeToString(bytes);
    }
}
