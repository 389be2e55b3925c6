namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>Knobs from the environment and the one-line figures every test prints.</summary>
public static class Figures
{
    /// <summary><c>MAGEFLOW_FAULT_TRIALS</c>, default 20.</summary>
    public static int FaultTrials => FromEnvironment("MAGEFLOW_FAULT_TRIALS", 20);

    /// <summary><c>MAGEFLOW_SOAK_TASKS</c>, default 3,000 (the issue asks for 100,000 when set).</summary>
    public static int SoakTasks => FromEnvironment("MAGEFLOW_SOAK_TASKS", 3000);

    public static string Line(int trials, int tasks, int lost, int duplicated, string? extra = null) =>
        $"FIGURES trials={trials} tasks={tasks} lost={lost} duplicated={duplicated}{(extra is null ? "" : " " + extra)}";

    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) && value > 0 ? value : fallback;
}
