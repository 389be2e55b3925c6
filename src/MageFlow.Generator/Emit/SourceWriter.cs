using System;
using System.Text;

namespace MageFlow.Generator.Emit;

/// <summary>Builds C# text line by line with four-space indentation and '\n' line ends on every OS.</summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _indentation;

    public SourceWriter WriteLine(string line)
    {
        if (line.Length > 0)
        {
            for (var i = 0; i < _indentation; i++) _text.Append(IndentUnit);
            _text.Append(line);
        }
        _text.Append('\n');
        return this;
    }

    public SourceWriter WriteLine() => WriteLine(string.Empty);

    /// <summary>Writes "{" and indents until the returned scope is disposed, which writes the closing brace.</summary>
    public Block OpenBlock()
    {
        WriteLine("{");
        _indentation++;
        return new Block(this);
    }

    public override string ToString() => _text.ToString();

    public readonly struct Block : IDisposable
    {
        private readonly SourceWriter _writer;

        public Block(SourceWriter writer) => _writer = writer;

        public void Dispose()
        {
            _writer._indentation--;
            _writer.WriteLine("}");
        }
    }
}
