namespace MageFlow.Generator;

/// <summary>
/// Names of the generator's pipeline steps (<c>WithTrackingName</c>), public so tests can assert which steps
/// were cached. These values are stable: tests in other projects refer to them.
/// </summary>
public static class TrackingNames
{
    /// <summary>Each <c>[MageTask]</c> method turned into a <c>TaskModel</c>, or null when its shape is invalid.</summary>
    public const string TaskModels = "MageFlow.TaskModels";

    /// <summary>The task models of valid methods only.</summary>
    public const string ValidTasks = "MageFlow.ValidTasks";

    /// <summary>Each valid task's claims on its builder class name and its task name.</summary>
    public const string TaskClaims = "MageFlow.TaskClaims";

    /// <summary>
    /// Hint names of valid tasks left out: another task keeps the same builder class (same method name in one
    /// namespace; the ordinally first hint name keeps it), or another task that keeps a builder has its task name.
    /// </summary>
    public const string NameClashes = "MageFlow.NameClashes";

    /// <summary>The valid tasks that get a builder: one builder file is emitted per item.</summary>
    public const string EmittedTasks = "MageFlow.EmittedTasks";

    /// <summary>Each valid task reduced to the one line the module initializer needs.</summary>
    public const string RegistrationEntries = "MageFlow.RegistrationEntries";

    /// <summary>All registration entries of the compilation, sorted: one module-initializer file.</summary>
    public const string Registrations = "MageFlow.Registrations";
}
