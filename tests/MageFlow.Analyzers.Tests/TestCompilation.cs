using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Testing;

namespace MageFlow.Analyzers.Tests;

/// <summary>The offline references and options every analyzer and code-fix test compiles with.</summary>
internal static class TestCompilation
{
    /// <summary>No package download: the framework comes from Basic.Reference.Assemblies.</summary>
    public static ReferenceAssemblies ReferenceAssemblies { get; } = new("net10.0");

    public static IEnumerable<MetadataReference> AdditionalReferences { get; } =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(MageTaskAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location),
    ];

    /// <summary>User projects have nullable reference types on; the analyzers honour their annotations.</summary>
    public static Solution EnableNullable(Solution solution, ProjectId projectId)
    {
        var options = (CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!;
        return solution.WithProjectCompilationOptions(projectId, options.WithNullableContextOptions(NullableContextOptions.Enable));
    }

    /// <summary>Applies the shared setup to a test of any kind.</summary>
    public static void Configure(SolutionState state, ICollection<Func<Solution, ProjectId, Solution>> solutionTransforms)
    {
        state.AdditionalReferences.AddRange(AdditionalReferences);
        solutionTransforms.Add(EnableNullable);
    }
}
