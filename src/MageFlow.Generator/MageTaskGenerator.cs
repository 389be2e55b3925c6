using System;
using System.Linq;
using MageFlow.Generator.Emit;
using MageFlow.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MageFlow.Generator;

/// <summary>
/// Emits a typed builder class for every <c>[MageTask]</c> method and one module initializer registering them all.
/// Which methods are valid is decided by the <see cref="TaskClassifier"/> the analyzers share; invalid methods
/// produce no output and no diagnostic: the analyzers explain them.
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
                transform: static (context, cancellationToken) => context.TargetSymbol is IMethodSymbol method && context.Attributes.Length > 0
                    ? TaskClassifier.Classify(method, context.Attributes[0], cancellationToken).Model
                    : null)
            .WithTrackingName(TrackingNames.TaskModels);

        var validTasks = tasks
            .Where(static task => task is not null)
            .Select(static (task, _) => task!)
            .WithTrackingName(TrackingNames.ValidTasks);

        // Which task keeps a contested builder class or task name needs every task, hence Collect.
        var nameClashes = validTasks
            .Select(static (task, _) => TaskClaim.Of(task))
            .WithTrackingName(TrackingNames.TaskClaims)
            .Collect()
            .Select(static (claims, _) => TaskClaims.Settle(claims).LeftOutHintNames().ToEquatableArray())
            .WithTrackingName(TrackingNames.NameClashes);

        var emittedTasks = validTasks
            .Combine(nameClashes)
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
