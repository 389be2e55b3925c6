using System.Collections.Generic;
using System.Linq;
using MageFlow.Generator.Model;

namespace MageFlow.Generator.Emit;

/// <summary>
/// Writes one task's builder class: name, descriptor, typed signing overloads, typed signature and kwargs. Only what
/// must be typed per task is written here, one member per line; the bodies live in the runtime's generic helpers
/// (<c>GeneratedSigning</c>, <c>GeneratedSignature</c>), because every generated line is compiled in every build of
/// the user's project.
/// </summary>
internal static class TaskEmitter
{
    private const string TaskType = "global::System.Threading.Tasks.Task";
    private const string ValueTaskType = "global::System.Threading.Tasks.ValueTask";
    private const string CancellationTokenType = "global::System.Threading.CancellationToken";
    private const string CallbacksType = "global::System.Collections.Generic.IEnumerable<global::MageFlow.TaskSignature>?";
    private const string SignatureType = "global::MageFlow.TaskSignature";

    public static string Emit(TaskModel task)
    {
        var writer = new SourceWriter();
        GeneratedCode.WriteHeader(writer);
        if (task.Namespace.Length > 0) writer.WriteLine($"namespace {task.Namespace};");
        WriteBuilder(writer, task);
        return writer.ToString();
    }

    private static void WriteBuilder(SourceWriter writer, TaskModel task)
    {
        var taskNameText = GeneratedCode.XmlText(task.TaskName);
        var resultTypeOf = task.ResultTypeOf is null ? "null" : $"typeof({task.ResultTypeOf})";
        writer.WriteLine($"/// <summary>The MageFlow task <c>{taskNameText}</c>: its name, how workers run it, and typed signing.</summary>");
        writer.WriteLine(
            $"[{GeneratedCode.GeneratedCodeAttribute}, global::MageFlow.GeneratedMageTask({Naming.StringLiteral(task.TaskName)}, typeof({task.MessageTypeOf}), {resultTypeOf}, {Naming.StringLiteral(task.ReturnField)})]");
        writer.WriteLine($"{(task.IsPublic ? "public" : "internal")} static class {task.BuilderName}");
        using (writer.OpenBlock())
        {
            writer.WriteLine("/// <summary>The task's name, shared by every process that signs or runs it.</summary>");
            writer.WriteLine($"public const string TaskName = {Naming.StringLiteral(task.TaskName)};");
            WriteDescriptor(writer, task);
            WriteAsign(writer, task);
            WriteSignature(writer, task);
            WriteKwargsBinder(writer, task);
        }
    }

    private static void WriteDescriptor(SourceWriter writer, TaskModel task)
    {
        var typeArguments = task.ResultType is null ? task.MessageType : $"{task.MessageType}, {task.ResultType}";
        writer.WriteLine("/// <summary>How workers run this task; registered in the task catalogue when the assembly loads.</summary>");
        writer.WriteLine(
            $"public static global::MageFlow.TaskDescriptor Descriptor {{ get; }} = global::MageFlow.TaskDescriptor.Create<{typeArguments}>(TaskName, {Handler(task)}, {Options(task)});");
    }

    /// <summary>The lambda adapting the user's method to the runtime's ValueTask-returning handler delegate.</summary>
    private static string Handler(TaskModel task)
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

        return task.ReturnShape switch
        {
            ReturnShape.Void => $"{parameters} => {{ {call}; return default; }}",
            ReturnShape.Value or ReturnShape.TaskOfResult => $"{parameters} => new {ValueTaskType}<{task.ResultType}>({call})",
            ReturnShape.Task => $"{parameters} => new {ValueTaskType}({call})",
            _ => $"{parameters} => {call}",
        };
    }

    /// <summary>The task's options; settings left at the runtime's default are not written.</summary>
    private static string Options(TaskModel task)
    {
        var settings = new List<string>();
        if (task.Retries > 0) settings.Add($"Retries = {task.Retries}");
        if (task.TimeoutSeconds > 0) settings.Add($"Timeout = global::System.TimeSpan.FromSeconds({task.TimeoutSeconds})");
        if (task.RetryDelayMilliseconds > 0) settings.Add($"RetryDelay = global::System.TimeSpan.FromMilliseconds({task.RetryDelayMilliseconds})");
        settings.Add($"ReturnField = {Naming.StringLiteral(task.ReturnField)}");
        return $"new global::MageFlow.TaskOptions {{ {string.Join(", ", settings)} }}";
    }

    /// <summary>The two <c>AsignAsync</c> overloads: with an explicit client, and with the ambient one.</summary>
    private static void WriteAsign(SourceWriter writer, TaskModel task)
    {
        var parameters = string.Join(", ", MemberParameters(task).Concat([
            $"{CallbacksType} successCallbacks = null",
            $"{CallbacksType} errorCallbacks = null",
            $"{CancellationTokenType} cancellationToken = default",
        ]));
        var kwargs = Bindings(task, "global::MageFlow.GeneratedSigning.NewKwargs(mage)");
        writer.WriteLine("/// <summary>Signs this task with <paramref name=\"mage\"/>: each member argument passed is bound (null included), the others stay unbound; the callbacks run after it succeeds or finally fails.</summary>");
        writer.WriteLine(
            $"public static {TaskType}<Signature> AsignAsync(global::MageFlow.IMageFlow mage, {parameters}) => " +
            $"global::MageFlow.GeneratedSigning.AsignAsync<Signature>(mage, Descriptor, {kwargs}, successCallbacks, errorCallbacks, static signature => new Signature(signature), cancellationToken);");

        var forwarded = string.Join(", ", new[] { "global::MageFlow.Mage.Default" }
            .Concat(task.Kwargs.Select(kwarg => kwarg.ParameterName))
            .Concat(["successCallbacks", "errorCallbacks", "cancellationToken"]));
        writer.WriteLine("/// <summary>Signs this task with the ambient client <see cref=\"global::MageFlow.Mage.Default\"/> (set once a host with AddMageFlow has started).</summary>");
        writer.WriteLine($"public static {TaskType}<Signature> AsignAsync({parameters}) => AsignAsync({forwarded});");
    }

    /// <summary>A typed signature; its kwargs and run-and-wait come from the runtime's generic base.</summary>
    private static void WriteSignature(SourceWriter writer, TaskModel task)
    {
        var baseType = task.ResultType is null
            ? $"global::MageFlow.GeneratedSignature<{task.MessageType}, KwargsBinder>"
            : $"global::MageFlow.GeneratedSignature<{task.MessageType}, KwargsBinder, {task.ResultType}>";
        writer.WriteLine($"/// <summary>A signed <c>{GeneratedCode.XmlText(task.TaskName)}</c> task, with typed kwargs and run-and-wait.</summary>");
        writer.WriteLine($"public sealed class Signature : {baseType}");
        using (writer.OpenBlock())
        {
            // The binder reads only the stored signature (client, id, task name), so it can wrap the untyped one.
            writer.WriteLine($"internal Signature({SignatureType} signature) : base(signature, new KwargsBinder(signature)) {{ }}");
        }
    }

    private static void WriteKwargsBinder(SourceWriter writer, TaskModel task)
    {
        writer.WriteLine("/// <summary>Typed access to a signature's bound kwargs.</summary>");
        writer.WriteLine("public sealed class KwargsBinder : global::MageFlow.SignatureKwargs");
        using (writer.OpenBlock())
        {
            writer.WriteLine($"internal KwargsBinder({SignatureType} signature) : base(signature) {{ }}");
            if (task.Kwargs.Count == 0) return;

            var parameters = string.Join(", ", MemberParameters(task).Concat([$"{CancellationTokenType} cancellationToken = default"]));
            writer.WriteLine("/// <summary>Binds each member argument passed (null included), replacing its earlier value; persisted at once.</summary>");
            // base: a member of type object would make this overload match its own call.
            writer.WriteLine($"public {TaskType} UpdateAsync({parameters}) => base.UpdateAsync({Bindings(task, "NewBuilder()")}, cancellationToken);");
        }
    }

    private static IEnumerable<string> MemberParameters(TaskModel task) =>
        task.Kwargs.Select(kwarg => $"global::MageFlow.Optional<{kwarg.Type}> {kwarg.ParameterName} = default");

    /// <summary><paramref name="builder"/> followed by one binding per member: the members passed are bound, the others skipped.</summary>
    private static string Bindings(TaskModel task, string builder) =>
        builder + string.Concat(task.Kwargs.Select(kwarg => $".AddIfSet({Naming.StringLiteral(kwarg.WireName)}, {kwarg.ParameterName})"));
}
