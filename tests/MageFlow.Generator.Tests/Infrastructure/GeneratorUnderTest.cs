using System.Reflection;
using Microsoft.CodeAnalysis;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>The generators of MageFlow.Generator and the step names they track.</summary>
internal static class GeneratorUnderTest
{
    private static readonly Assembly GeneratorAssembly = typeof(MageTaskGenerator).Assembly;

    /// <summary>
    /// Every [Generator] type in the assembly, so a generator added there later is held to the same checks.
    /// </summary>
    public static ISourceGenerator[] Create()
    {
        var generators = GeneratorAssembly.GetTypes()
            .Where(type => type.GetCustomAttribute<GeneratorAttribute>() is not null && !type.IsAbstract)
            .OrderBy(type => type.FullName, StringComparer.Ordinal)
            .Select(type => Activator.CreateInstance(type) switch
            {
                IIncrementalGenerator incremental => incremental.AsSourceGenerator(),
                ISourceGenerator classic => classic,
                var other => throw new InvalidOperationException($"{type} is neither an ISourceGenerator nor an IIncrementalGenerator: {other}"),
            })
            .ToArray();
        Assert.Contains(generators, generator => generator.GetGeneratorType() == typeof(MageTaskGenerator));
        return generators;
    }

    /// <summary>Values of the public string constants of <see cref="Generator.TrackingNames"/>.</summary>
    public static IReadOnlyList<string> TrackingNames { get; } =
        typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field is { IsLiteral: true } && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)
            .ToArray();
}
