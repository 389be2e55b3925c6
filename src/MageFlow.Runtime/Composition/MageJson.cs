using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MageFlow;

/// <summary>
/// The wire format (semantics rule 3): JSON, camelCase member names, case-insensitive reads, and the
/// fallback return member <c>MageflowResults</c> written as <c>mageflow_results</c>.
/// </summary>
public static class MageJson
{
    /// <summary>Wire name of the fallback return member.</summary>
    public const string FallbackReturnField = "mageflow_results";

    /// <summary>CLR name of the fallback return member.</summary>
    public const string FallbackReturnMember = "MageflowResults";

    /// <summary>Creates the serializer options MageFlow uses; <paramref name="resolver"/> adds source-generated contexts.</summary>
    public static JsonSerializerOptions CreateOptions(IJsonTypeInfoResolver? resolver = null)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = MageNamingPolicy.Instance,
            DictionaryKeyPolicy = null,
            PropertyNameCaseInsensitive = true,
            // [ReturnValue] may sit on a field and generated builders bind public fields: fields are on the wire.
            IncludeFields = true,
            // rule 9: a missing required member or a null in a non-nullable one is an error naming the member.
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,
            // Text that is not valid Unicode is refused, not silently replaced with U+FFFD.
            Encoder = Composition.StrictJsonEncoder.Instance,
            TypeInfoResolver = resolver is null
                ? new DefaultJsonTypeInfoResolver()
                : JsonTypeInfoResolver.Combine(resolver, new DefaultJsonTypeInfoResolver()),
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>The options used when none are configured.</summary>
    public static JsonSerializerOptions DefaultOptions { get; } = CreateOptions();

    /// <summary>The wire name of a CLR member name.</summary>
    public static string WireName(string memberName) => MageNamingPolicy.Instance.ConvertName(memberName);

    internal static JsonTypeInfo<T> TypeInfo<T>(this JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    private sealed class MageNamingPolicy : JsonNamingPolicy
    {
        public static readonly MageNamingPolicy Instance = new();

        public override string ConvertName(string name) =>
            name == FallbackReturnMember ? FallbackReturnField : CamelCase.ConvertName(name);
    }
}
