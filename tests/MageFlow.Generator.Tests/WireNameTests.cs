using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using MageFlow.Generator.Tests.Infrastructure;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests;

/// <summary>
/// Kwargs and returned values travel as JSON members named by the generator; the worker reads messages with
/// <see cref="MageJson.DefaultOptions"/>. Every name the generated code writes must be one the serializer reads,
/// or the bound value is silently dropped. Checked against the real serializer on the compiled messages.
/// </summary>
public sealed partial class WireNameTests
{
    private const string Messages = """
        using System.Text.Json.Serialization;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record Receipt(string OrderId);

        public sealed record AcronymMessage(string URL, string IOStream, string ETag, int X, [property: ReturnValue] Receipt? HTMLBody);

        public sealed record RenamedMessage([property: JsonPropertyName("order_ref")] string OrderRef, [property: JsonPropertyName("result"), ReturnValue] Receipt? Previous);

        public sealed record FallbackMessage(string Source, Receipt? MageflowResults);

        public sealed class IgnoringMessage
        {
            public string Name { get; set; } = "";

            [JsonIgnore]
            public string? CacheKey { get; set; }
        }

        public sealed class FieldMessage
        {
            public string Account { get; set; } = "";

            public int Copies;

            [ReturnValue]
            public Receipt? Receipt;
        }

        public static class WireTasks
        {
            [MageTask] public static Task Acronyms(AcronymMessage message) => Task.CompletedTask;
            [MageTask] public static Task Renamed(RenamedMessage message) => Task.CompletedTask;
            [MageTask] public static Task Fallback(FallbackMessage message) => Task.CompletedTask;
            [MageTask] public static Task Fields(FieldMessage message) => Task.CompletedTask;
            [MageTask] public static Task Ignoring(IgnoringMessage message) => Task.CompletedTask;
        }
        """;

    [Theory]
    [InlineData("Acronyms", "AcronymMessage", true)]
    [InlineData("Renamed", "RenamedMessage", true)]
    [InlineData("Fallback", "FallbackMessage", true)]
    [InlineData("Fields", "FieldMessage", true)]
    [InlineData("Ignoring", "IgnoringMessage", false)]
    public void Generated_member_names_are_read_by_the_serializer(string builder, string message, bool hasReturnMember)
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Messages));
        GeneratorAssert.NoGeneratorFailures(run);
        var assembly = CompiledAssembly.Load(run.Output);
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);

        var builderText = run.GeneratedSources.Single(s => Regex.IsMatch(s.SourceText.ToString(), $@"\bstatic class {builder}\b")).SourceText.ToString();
        var kwargNames = KwargWireName().Matches(builderText).Select(m => m.Groups[1].Value).Distinct().ToArray();
        var returnField = MageTaskCatalog.Snapshot().Single(d => d.MessageType.Assembly == assembly && d.MessageType.Name == message).Options.ReturnField;
        // Ignored members stay listed, but with nothing to set them through.
        var readable = MageJson.DefaultOptions.GetTypeInfo(assembly.GetType($"Shop.{message}", throwOnError: true)!)
            .Properties.Where(p => p.Set is not null || p.AssociatedParameter is not null)
            .Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

        // Without a return member the return field is only the fallback name, which MAGE002 warns about.
        var written = hasReturnMember ? kwargNames.Append(returnField) : kwargNames;
        var unread = written.Where(name => !readable.Contains(name)).ToArray();
        if (unread.Length > 0)
        {
            throw new XunitException(
                $"{builder} writes {string.Join(", ", unread)}, which the serializer does not read for {message} " +
                $"(it reads {string.Join(", ", readable.Order(StringComparer.Ordinal))}).");
        }
    }

    [GeneratedRegex("""kwargs\.Add<[^(]*>\("([^"]*)",""")]
    private static partial Regex KwargWireName();
}
