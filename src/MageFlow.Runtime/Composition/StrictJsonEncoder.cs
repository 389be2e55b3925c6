using System.Buffers;
using System.Text.Encodings.Web;

namespace MageFlow.Composition;

/// <summary>
/// System.Text.Json's default encoder, except that text which is not valid Unicode (a lone surrogate in a string or
/// a member name) is refused instead of being replaced with U+FFFD: a message or kwarg is never changed silently on
/// its way to storage. System.Text.Json turns the refusal into an <see cref="ArgumentException"/> ("Cannot encode
/// invalid UTF-16 text as JSON"), which MageFlow reports naming the task.
/// </summary>
internal sealed class StrictJsonEncoder : JavaScriptEncoder
{
    public static readonly StrictJsonEncoder Instance = new();

    private static readonly JavaScriptEncoder Inner = Default;

    private StrictJsonEncoder() { }

    public override int MaxOutputCharactersPerInputCharacter => Inner.MaxOutputCharactersPerInputCharacter;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) => Inner.FindFirstCharacterToEncode(text, textLength);

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) => Inner.FindFirstCharacterToEncodeUtf8(utf8Text);

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten) =>
        Inner.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);

    public override bool WillEncode(int unicodeScalar) => Inner.WillEncode(unicodeScalar);

    public override OperationStatus Encode(ReadOnlySpan<char> source, Span<char> destination, out int charsConsumed, out int charsWritten, bool isFinalBlock = true)
    {
        if (HasLoneSurrogate(source, isFinalBlock))
        {
            charsConsumed = 0;
            charsWritten = 0;
            return OperationStatus.InvalidData;
        }
        return Inner.Encode(source, destination, out charsConsumed, out charsWritten, isFinalBlock);
    }

    public override OperationStatus EncodeUtf8(ReadOnlySpan<byte> utf8Source, Span<byte> utf8Destination, out int bytesConsumed, out int bytesWritten, bool isFinalBlock = true)
    {
        if (isFinalBlock && !System.Text.Unicode.Utf8.IsValid(utf8Source))
        {
            bytesConsumed = 0;
            bytesWritten = 0;
            return OperationStatus.InvalidData;
        }
        return Inner.EncodeUtf8(utf8Source, utf8Destination, out bytesConsumed, out bytesWritten, isFinalBlock);
    }

    /// <summary>A surrogate without its pair; a high surrogate at the very end only counts when no more text follows.</summary>
    private static bool HasLoneSurrogate(ReadOnlySpan<char> text, bool isFinalBlock)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                if (i + 1 == text.Length && !isFinalBlock) return false;
            }
            return true;
        }
        return false;
    }
}
