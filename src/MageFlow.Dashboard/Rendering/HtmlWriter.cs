using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace MageFlow.Dashboard.Rendering;

/// <summary>
/// The one place that writes into a page. Markup comes only from the literal parts of interpolated strings; every
/// hole is HTML-encoded unless it is <see cref="HtmlFragment"/> (markup this writer produced), so data read from the
/// store (kwargs, errors, task names) can only ever appear as text.
/// </summary>
internal sealed class HtmlWriter
{
    private readonly StringBuilder _builder = new();

    /// <summary>Writes <paramref name="html"/>: by the time this runs, the handler has appended every part to this writer.</summary>
    public void Write([InterpolatedStringHandlerArgument("")] ref HtmlInterpolation html) { }

    public HtmlFragment ToFragment() => new(_builder.ToString());

    public override string ToString() => _builder.ToString();

    internal void AppendMarkup(string markup) => _builder.Append(markup);

    internal void AppendEncoded(object? value)
    {
        if (value is HtmlFragment fragment)
        {
            _builder.Append(fragment.Markup);
            return;
        }
        var text = value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value?.ToString();
        _builder.Append(HtmlEncoder.Default.Encode(text ?? ""));
    }
}

/// <summary>Markup made by an <see cref="HtmlWriter"/> (or a literal): inserted as it is into another page part. Never built from data.</summary>
internal readonly record struct HtmlFragment(string Markup)
{
    public static HtmlFragment Empty { get; } = new("");

    /// <summary>Text as a fragment, encoded: for choosing between text and markup in one hole.</summary>
    public static HtmlFragment FromText(string text) => new(HtmlEncoder.Default.Encode(text));
}

/// <summary>Literal parts are markup; holes are encoded (see <see cref="HtmlWriter"/>).</summary>
[InterpolatedStringHandler]
internal readonly ref struct HtmlInterpolation
{
    private readonly HtmlWriter _writer;

    public HtmlInterpolation(int literalLength, int formattedCount, HtmlWriter writer) => _writer = writer;

    public void AppendLiteral(string markup) => _writer.AppendMarkup(markup);

    public void AppendFormatted<T>(T value) => _writer.AppendEncoded(value);

    public void AppendFormatted<T>(T value, string format) where T : IFormattable =>
        _writer.AppendEncoded(value.ToString(format, CultureInfo.InvariantCulture));
}
