using System.Reflection;
using Microsoft.CodeAnalysis;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>The generators of MageFlow.Generator and the step names they track.</summary>
internal static class GeneratorUnderTest
{
    private static readonly Assembly GeneratorAssembly = typeof(MageTaskGenerator).Assembly;

    /// <summary>The generator under test; a second generator would be added here by name.</summary>
    public static ISourceGenerator[] Create() => [new MageTaskGenerator().AsSourceGenerator()];

    /// <summary>Values of the public string constants of <see cref="Generator.TrackingNames"/>.</summary>
    public static IReadOnlyList<string> TrackingNames { get; } =
        typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field is { IsLiteral: true } && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)
            .ToArray();
}
