using System.Collections.Immutable;
using MageFlow.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace MageFlow.Generator.Tests.HarnessTests;

/// <summary>The walk that keeps symbols and syntax out of pipeline models has to see through nesting.</summary>
public sealed class CompilerObjectWalkTests
{
    private sealed record Model(string Name, ImmutableArray<object> Parts);

    private static readonly ISymbol SomeSymbol = TestCompilation.Create("class C {}").GetTypeByMetadataName("C")!;

    [Fact]
    public void Plain_values_pass()
    {
        var model = new Model("C", ["global::C", 3, (Name: "x", Flag: true)]);

        Assert.Empty(GeneratorAssert.CompilerObjectsIn(model, "step"));
        Assert.Empty(GeneratorAssert.CompilerObjectsIn(new Model("C", default), "step"));
    }

    [Fact]
    public void Symbol_nested_in_array_and_tuple_is_found()
    {
        var model = new Model("C", ["global::C", ("type", SomeSymbol)]);

        var found = Assert.Single(GeneratorAssert.CompilerObjectsIn(model, "step"));
        Assert.StartsWith("step.<Parts>k__BackingField[1].Item2: ISymbol", found);
    }

    [Fact]
    public void Syntax_and_locations_are_found()
    {
        var tree = TestCompilation.Parse("class C {}", "C.cs");

        Assert.NotEmpty(GeneratorAssert.CompilerObjectsIn(new Model("C", [tree.GetRoot()]), "step"));
        Assert.NotEmpty(GeneratorAssert.CompilerObjectsIn(new Model("C", [tree.GetRoot().GetLocation()]), "step"));
    }
}
