using MageFlow.Generator.Model;

namespace MageFlow.Generator.Emit;

/// <summary>
/// Writes the one file per compilation whose module initializer adds every task to the catalogue, so a worker
/// finds the application's tasks with no hand-written list and no assembly scanning.
/// </summary>
internal static class RegistrationEmitter
{
    public const string HintName = "MageFlow.TaskRegistration.g.cs";

    public static string Emit(EquatableArray<RegistrationEntry> entries)
    {
        var writer = new SourceWriter();
        GeneratedCode.WriteHeader(writer);
        writer.WriteLine("namespace MageFlow.Generated;");
        writer.WriteLine("/// <summary>Registers this assembly's [MageTask] methods with the task catalogue when the module loads.</summary>");
        writer.WriteLine($"[{GeneratedCode.GeneratedCodeAttribute}, global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
        writer.WriteLine("internal static class MageTaskRegistration");
        using (writer.OpenBlock())
        {
            writer.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
            writer.WriteLine("[global::System.Diagnostics.CodeAnalysis.SuppressMessage(\"Usage\", \"CA2255:The 'ModuleInitializer' attribute should not be used in libraries\", Justification = \"Registering the tasks on load is what replaces assembly scanning; libraries are loaded with AddMageFlowTasksFrom<T>().\")]");
            writer.WriteLine("internal static void RegisterTasks()");
            using (writer.OpenBlock())
            {
                foreach (var entry in entries)
                {
                    writer.WriteLine($"global::MageFlow.MageTaskCatalog.Register({entry.BuilderFullName}.Descriptor);");
                }
            }
        }
        return writer.ToString();
    }
}
