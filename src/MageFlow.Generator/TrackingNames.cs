namespace MageFlow.Generator;

/// <summary>
/// Names of the generator's pipeline steps (<c>WithTrackingName</c>), public so tests can assert which steps
/// were cached. These values are stable: tests in other projects refer to them.
/// </summary>
public static class TrackingNames
{
    /// <summary>Each <c>[MageTask]</c> method turned into a <c>TaskModel</c>, or null when its shape is invalid.</summary>
    public const string TaskModels = "MageFlow.TaskModels";

    /// <summary>The task models of valid methods only: one builder file is emitted per item.</summary>
    public const string ValidTasks = "MageFlow.ValidTasks";

    /// <summary>Each valid task reduced to the one line the module initializer needs.</summary>
    public const string RegistrationEntries = "MageFlow.RegistrationEntries";

    /// <summary>All registration entries of the compilation, sorted: one module-initializer file.</summary>
    public const string Registrations = "MageFlow.Registrations";
}
