using System;
using System.Linq;
using MageFlow.Generator.Emit;
using MageFlow.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MageFlow.Generator;

/// <summary>
/// Emits a typed builder class for every <c>[MageTask]</c> method and one module initializer registering them all.
/// Invalid methods produce no output and no diagnostic: the analyzers explain them.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class MageTaskGenerator : IIncrementalGenerator
{
    private const string MageTaskAttributeName = "MageFlow.MageTaskAttribute";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var tasks = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                MageTaskAttributeName,
                predicate: static (node, _) => node is MethodDeclarationSyntax,
                transform: TaskModelBuilder.Build)
            .WithTrackingName(TrackingNames.TaskModels);

        var validTasks = tasks
            .Where(static task => task is not null)
            .Select(static (task, _) => task!)
            .WithTrackingName(TrackingNames.ValidTasks);

        // Builders are named after their method, so two tasks of one namespace can want the same class; only one
        // may have it, or the whole namespace stops compiling. Which one needs every task, hence Collect.
        var builderNameClashes = validTasks
            .Select(static (task, _) => new BuilderClaim(task.BuilderFullName, task.HintName))
            .WithTrackingName(TrackingNames.BuilderClaims)
            .Collect()
            .Select(static (claims, _) => claims
                .GroupBy(static claim => claim.BuilderFullName, StringComparer.Ordinal)
                .SelectMany(static group => group.Select(static claim => claim.HintName).OrderBy(static hint => hint, StringComparer.Ordinal).Skip(1))
                .OrderBy(static hint => hint, StringComparer.Ordinal)
                .ToEquatableArray())
            .WithTrackingName(TrackingNames.BuilderNameClashes);

        var emittedTasks = validTasks
            .Combine(builderNameClashes)
            .Where(static pair => !pair.Right.Contains(pair.Left.HintName))
            .Select(static (pair, _) => pair.Left)
            .WithTrackingName(TrackingNames.EmittedTasks);

        context.RegisterSourceOutput(emittedTasks, static (output, task) => output.AddSource(task.HintName, TaskEmitter.Emit(task)));

        var registrations = emittedTasks
            .Select(static (task, _) => new RegistrationEntry(task.BuilderFullName))
            .WithTrackingName(TrackingNames.RegistrationEntries)
            .Collect()
            .Select(static (entries, _) => entries
                .OrderBy(static entry => entry.BuilderFullName, StringComparer.Ordinal)
                .ToEquatableArray())
            .WithTrackingName(TrackingNames.Registrations);

        context.RegisterSourceOutput(registrations, static (output, entries) =>
        {
            if (entries.Count > 0) output.AddSource(RegistrationEmitter.HintName, RegistrationEmitter.Emit(entries));
        });
    }
}
