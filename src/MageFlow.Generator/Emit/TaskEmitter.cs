using System.Collections.Generic;
using System.Linq;
using MageFlow.Generator.Model;

namespace MageFlow.Generator.Emit;

/// <summary>Writes one task's builder class: name, descriptor, typed signing overloads, typed signature and kwargs.</summary>
internal static class TaskEmitter
{
    private const string TaskType = "global::System.Threading.Tasks.Task";
    private const string ValueTaskType = "global::System.Threading.Tasks.ValueTask";
    private const string CancellationTokenType = "global::System.Threading.CancellationToken";
    private const string CallbacksType = "global::System.Collections.Generic.IEnumerable<global::MageFlow.TaskSignature>?";

    public static string Emit(TaskModel task)
    {
        var writer = new SourceWriter();
        GeneratedCode.WriteHeader(writer);

        if (task.Namespace.Length == 0)
        {
            WriteBuilder(writer, task);
        }
        else
        {
            writer.WriteLine("namespace " + task.Namespace);
            using (writer.OpenBlock())
            {
                WriteBuilder(writer, task);
            }
        }
        return writer.ToString();
    }

    private static void WriteBuilder(SourceWriter writer, TaskModel task)
    {
        var taskNameText = GeneratedCode.XmlText(task.TaskName);
        writer.WriteLine($"/// <summary>The MageFlow task <c>{taskNameText}</c>: its name, how workers run it, and typed signing.</summary>");
        writer.WriteLine(GeneratedCode.GeneratedCodeAttribute);
        var resultTypeOf = task.ResultTypeOf is null ? "null" : $"typeof({task.ResultTypeOf})";
        writer.WriteLine(
            $"[global::MageFlow.GeneratedMageTask({Naming.StringLiteral(task.TaskName)}, typeof({task.MessageTypeOf}), {resultTypeOf}, {Naming.StringLiteral(task.ReturnField)})]");
        writer.WriteLine($"{(task.IsPublic ? "public" : "internal")} static class {task.BuilderName}");
        using (writer.OpenBlock())
        {
            writer.WriteLine("/// <summary>The task's name, shared by every process that signs or runs it.</summary>");
            writer.WriteLine($"public const string TaskName = {Naming.StringLiteral(task.TaskName)};");
            writer.WriteLine();
            WriteDescriptor(writer, task);
            writer.WriteLine();
            WriteAsignWithClient(writer, task);
            writer.WriteLine();
            WriteAsignWithAmbientClient(writer, task);
            writer.WriteLine();
            WriteSignature(writer, task);
            writer.WriteLine();
            WriteKwargsBinder(writer, task);
        }
    }

    private static void WriteDescriptor(SourceWriter writer, TaskModel task)
    {
        var typeArguments = task.ResultType is null ? task.MessageType : $"{task.MessageType}, {task.ResultType}";
        writer.WriteLine("/// <summary>How workers run this task; registered in the task catalogue when the assembly loads.</summary>");
        writer.WriteLine($"public static global::MageFlow.TaskDescriptor Descriptor {{ get; }} = global::MageFlow.TaskDescriptor.Create<{typeArguments}>(");
        writer.Indent();
        writer.WriteLine("TaskName,");
        WriteHandler(writer, task);
        writer.WriteLine("new global::MageFlow.TaskOptions");
        using (writer.OpenBlock("});"))
        {
            writer.WriteLine($"Retries = {task.Retries},");
            writer.WriteLine(task.TimeoutSeconds > 0 ? $"Timeout = global::System.TimeSpan.FromSeconds({task.TimeoutSeconds})," : "Timeout = null,");
            writer.WriteLine(task.RetryDelayMilliseconds > 0 ? $"RetryDelay = global::System.TimeSpan.FromMilliseconds({task.RetryDelayMilliseconds})," : "RetryDelay = null,");
            writer.WriteLine($"ReturnField = {Naming.StringLiteral(task.ReturnField)},");
        }
        writer.Unindent();
    }

    /// <summary>The lambda adapting the user's method to the runtime's ValueTask-returning handler delegate.</summary>
    private static void WriteHandler(SourceWriter writer, TaskModel task)
    {
        var usesMessage = task.Arguments.Contains(ArgumentKind.Message);
        var usesContext = task.IsInstance || task.Arguments.Contains(ArgumentKind.Context);
        var usesToken = task.Arguments.Contains(ArgumentKind.CancellationToken);
        var parameters = $"static ({(usesMessage ? "message" : "_")}, {(usesContext ? "context" : "_")}, {(usesToken ? "cancellationToken" : "_")})";

        var target = task.IsInstance
            ? $"global::Microsoft.Extensions.DependencyInjection.ActivatorUtilities.GetServiceOrCreateInstance<{task.DeclaringType}>(context.Services)"
            : task.DeclaringType;
        var arguments = string.Join(", ", task.Arguments.Select(kind => kind switch
        {
            ArgumentKind.Message => "message",
            ArgumentKind.Context => "context",
            _ => "cancellationToken",
        }));
        var call = $"{target}.{task.MethodName}({arguments})";

        switch (task.ReturnShape)
        {
            case ReturnShape.Void:
                writer.WriteLine(parameters + " =>");
                using (writer.OpenBlock("},"))
                {
                    writer.WriteLine(call + ";");
                    writer.WriteLine("return default;");
                }
                break;
            case ReturnShape.Value:
                writer.WriteLine($"{parameters} => new {ValueTaskType}<{task.ResultType}>({call}),");
                break;
            case ReturnShape.Task:
                writer.WriteLine($"{parameters} => new {ValueTaskType}({call}),");
                break;
            case ReturnShape.TaskOfResult:
                writer.WriteLine($"{parameters} => new {ValueTaskType}<{task.ResultType}>({call}),");
                break;
            default:
                writer.WriteLine($"{parameters} => {call},");
                break;
        }
    }

    private static void WriteAsignWithClient(SourceWriter writer, TaskModel task)
    {
        writer.WriteLine("/// <summary>");
        writer.WriteLine("/// Signs this task with <paramref name=\"mage\"/>. Each member argument passed is bound (null included);");
        writer.WriteLine("/// members left out stay unbound. The callbacks run after the task succeeds or finally fails.");
        writer.WriteLine("/// </summary>");
        writer.WriteLine($"public static async {TaskType}<Signature> AsignAsync(");
        writer.Indent();
        writer.WriteLine("global::MageFlow.IMageFlow mage,");
        WriteSigningParameters(writer, task, ")");
        writer.Unindent();
        using (writer.OpenBlock())
        {
            writer.WriteLine("if (mage is null) throw new global::System.ArgumentNullException(nameof(mage));");
            writer.WriteLine("var kwargs = new global::MageFlow.KwargsBuilder(mage.JsonOptions);");
            WriteKwargsAdds(writer, task);
            writer.WriteLine("var core = await mage.AsignAsync(");
            writer.Indent();
            writer.WriteLine("new global::MageFlow.SignatureRequest(TaskName)");
            using (writer.OpenBlock("},"))
            {
                writer.WriteLine("Kwargs = kwargs,");
                writer.WriteLine("SuccessCallbacks = successCallbacks,");
                writer.WriteLine("ErrorCallbacks = errorCallbacks,");
                writer.WriteLine($"MessageType = typeof({task.MessageTypeOf}),");
                writer.WriteLine($"ReturnField = {Naming.StringLiteral(task.ReturnField)},");
            }
            writer.WriteLine("cancellationToken).ConfigureAwait(false);");
            writer.Unindent();
            writer.WriteLine("return new Signature(core);");
        }
    }

    private static void WriteAsignWithAmbientClient(SourceWriter writer, TaskModel task)
    {
        writer.WriteLine("/// <summary>Signs this task with the ambient client <see cref=\"global::MageFlow.Mage.Default\"/> (set once a host with AddMageFlow has started).</summary>");
        writer.WriteLine($"public static {TaskType}<Signature> AsignAsync(");
        writer.Indent();
        WriteSigningParameters(writer, task, ") =>");
        var forwarded = new List<string> { "global::MageFlow.Mage.Default" };
        forwarded.AddRange(task.Kwargs.Select(k => k.ParameterName));
        forwarded.AddRange(["successCallbacks", "errorCallbacks", "cancellationToken"]);
        writer.WriteLine($"AsignAsync({string.Join(", ", forwarded)});");
        writer.Unindent();
    }

    /// <summary>The member parameters, callbacks and token, then <paramref name="end"/> (")" or ") =&gt;").</summary>
    private static void WriteSigningParameters(SourceWriter writer, TaskModel task, string end)
    {
        foreach (var kwarg in task.Kwargs)
        {
            writer.WriteLine($"global::MageFlow.Optional<{kwarg.Type}> {kwarg.ParameterName} = default,");
        }
        writer.WriteLine($"{CallbacksType} successCallbacks = null,");
        writer.WriteLine($"{CallbacksType} errorCallbacks = null,");
        writer.WriteLine($"{CancellationTokenType} cancellationToken = default{end}");
    }

    private static void WriteKwargsAdds(SourceWriter writer, TaskModel task)
    {
        foreach (var kwarg in task.Kwargs)
        {
            writer.WriteLine($"if ({kwarg.ParameterName}.HasValue) kwargs.Add<{kwarg.Type}>({Naming.StringLiteral(kwarg.WireName)}, {kwarg.ParameterName}.Value);");
        }
    }

    private static void WriteSignature(SourceWriter writer, TaskModel task)
    {
        writer.WriteLine($"/// <summary>A signed <c>{GeneratedCode.XmlText(task.TaskName)}</c> task, with typed kwargs.</summary>");
        writer.WriteLine(GeneratedCode.GeneratedCodeAttribute);
        writer.WriteLine($"public sealed class Signature : global::MageFlow.TaskSignature<{task.MessageType}>");
        using (writer.OpenBlock())
        {
            writer.WriteLine("internal Signature(global::MageFlow.TaskSignature signature)");
            writer.Indent();
            writer.WriteLine(": base(signature)");
            writer.Unindent();
            using (writer.OpenBlock())
            {
                writer.WriteLine("Kwargs = new KwargsBinder(this);");
            }
            writer.WriteLine();
            writer.WriteLine("/// <summary>The kwargs bound to this signature, updatable member by member.</summary>");
            writer.WriteLine("public new KwargsBinder Kwargs { get; }");
            writer.WriteLine();
            WriteRunAndWait(writer, task);
        }
    }

    /// <summary>The typed run-and-wait of contract §5; the runtime's base class does the work.</summary>
    private static void WriteRunAndWait(SourceWriter writer, TaskModel task)
    {
        var parameters = $"{task.MessageType} message, global::System.TimeSpan? timeout = null, {CancellationTokenType} cancellationToken = default";
        writer.WriteLine("/// <summary>Dispatches a run and waits for this signature to finish; throws MageTaskFailedException, OperationCanceledException (canceled) or TimeoutException (the run goes on).</summary>");
        writer.WriteLine(task.ResultType is null
            ? $"public {TaskType} RunAndWaitAsync({parameters}) => RunAndWaitCoreAsync(message, timeout, cancellationToken);"
            : $"public {TaskType}<{task.ResultType}> RunAndWaitAsync({parameters}) => RunAndWaitCoreAsync<{task.MessageType}, {task.ResultType}>(message, timeout, cancellationToken);");
    }

    private static void WriteKwargsBinder(SourceWriter writer, TaskModel task)
    {
        writer.WriteLine("/// <summary>Typed access to a signature's bound kwargs.</summary>");
        writer.WriteLine(GeneratedCode.GeneratedCodeAttribute);
        writer.WriteLine("public sealed class KwargsBinder : global::MageFlow.SignatureKwargs");
        using (writer.OpenBlock())
        {
            writer.WriteLine("internal KwargsBinder(global::MageFlow.TaskSignature signature)");
            writer.Indent();
            writer.WriteLine(": base(signature)");
            writer.Unindent();
            using (writer.OpenBlock())
            {
            }
            if (task.Kwargs.Count == 0) return;

            writer.WriteLine();
            writer.WriteLine("/// <summary>Binds each member argument passed (null included), replacing its earlier value; persisted at once.</summary>");
            writer.WriteLine($"public {TaskType} UpdateAsync(");
            writer.Indent();
            foreach (var kwarg in task.Kwargs)
            {
                writer.WriteLine($"global::MageFlow.Optional<{kwarg.Type}> {kwarg.ParameterName} = default,");
            }
            writer.WriteLine($"{CancellationTokenType} cancellationToken = default)");
            writer.Unindent();
            using (writer.OpenBlock())
            {
                writer.WriteLine("var kwargs = NewBuilder();");
                WriteKwargsAdds(writer, task);
                // base: a member of type object would make this overload match its own call.
                writer.WriteLine("return base.UpdateAsync(kwargs, cancellationToken);");
            }
        }
    }
}
