using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>Builds the user compilations the generator runs on, fully offline.</summary>
internal static class TestCompilation
{
    public static readonly CSharpParseOptions ParseOptions =
        CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    // Basic.Reference.Assemblies instead of ReferenceAssemblies.Net.*: those download packages, which fails here.
    private static readonly MetadataReference[] References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(MageTaskAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location),
    ];

    public static CSharpCompilation Create(params string[] sources) => Create(ParseOptions, sources);

    /// <summary>With other parse options (language version, documentation mode); the generated files get them too.</summary>
    public static CSharpCompilation Create(CSharpParseOptions parseOptions, params string[] sources) =>
        CSharpCompilation.Create(
            "MageFlowUserCode",
            sources.Select((source, index) => CSharpSyntaxTree.ParseText(source, parseOptions, $"Source{index}.cs")),
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                // Every warning wave: generated code must stay clean for users who opt into all of them.
                warningLevel: 9999));

    public static SyntaxTree Parse(string source, string path) =>
        CSharpSyntaxTree.ParseText(source, ParseOptions, path);
}
