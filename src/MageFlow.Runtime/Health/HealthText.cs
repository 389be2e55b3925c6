using System.Globalization;

namespace MageFlow.Health;

/// <summary>How the checks write durations in their descriptions: the same way in every culture.</summary>
internal static class HealthText
{
    public static string Duration(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(1)
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s");
}
