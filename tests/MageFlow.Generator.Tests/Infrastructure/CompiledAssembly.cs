using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>Emits an output compilation and loads it, to check generated code by running it.</summary>
internal static class CompiledAssembly
{
    /// <summary>
    /// Loads into a fresh context so each test gets its own copy; MageFlow.Runtime still resolves to this process's,
    /// so generated module initializers register into the one <see cref="MageTaskCatalog"/> the test can read.
    /// </summary>
    public static Assembly Load(Compilation compilation)
    {
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
            throw new XunitException($"Emit failed:\n{GeneratorAssert.Describe(emitted.Diagnostics)}");
        image.Position = 0;
        return new AssemblyLoadContext($"{compilation.AssemblyName}-{Guid.NewGuid():N}").LoadFromStream(image);
    }
}
