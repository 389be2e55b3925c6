using StackExchange.Redis;

namespace MageFlow.TestRedis;

/// <summary>
/// A signature's stored record (one MessagePack map in a string key), read and changed the way MageFlow's scripts do
/// it — with <c>cmsgpack</c> inside Redis, keeping the key's expiry — for tests that inspect or corrupt what Redis
/// holds (linked into each test project that needs it).
/// </summary>
internal static class StoredRecords
{
    private const string ReadScript = """
        local packed = redis.call('GET', KEYS[1])
        if not packed then return false end
        local flat = {}
        for name, value in pairs(cmsgpack.unpack(packed)) do flat[#flat + 1] = tostring(name); flat[#flat + 1] = tostring(value) end
        return flat
        """;

    // ARGV[1] the field, ARGV[2] its new value (absent: removed), ARGV[3] 'number' to store the value as a Lua number
    private const string ChangeScript = """
        local record = cmsgpack.unpack(redis.call('GET', KEYS[1]))
        local value = ARGV[2]
        if ARGV[3] == 'number' then value = tonumber(value) end
        record[ARGV[1]] = value
        redis.call('SET', KEYS[1], cmsgpack.pack(record), 'KEEPTTL')
        return 1
        """;

    /// <summary>The record's fields as text; null when the key does not exist.</summary>
    public static async Task<Dictionary<string, string>?> ReadAsync(IDatabase db, RedisKey key)
    {
        var reply = await db.ScriptEvaluateAsync(ReadScript, [key]);
        if (reply.IsNull) return null;
        var flat = (RedisValue[])reply!;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2) fields[(string)flat[i]!] = (string)flat[i + 1]!;
        return fields;
    }

    /// <summary>One field of the record as text; null when the field or the key is missing.</summary>
    public static async Task<string?> FieldAsync(IDatabase db, RedisKey key, string field) =>
        (await ReadAsync(db, key)) is { } fields && fields.TryGetValue(field, out var value) ? value : null;

    /// <summary>Sets one field, as a string, keeping the key's expiry.</summary>
    public static Task SetAsync(IDatabase db, RedisKey key, string field, RedisValue value) =>
        db.ScriptEvaluateAsync(ChangeScript, [key], [field, value]);

    /// <summary>Sets one field to a MessagePack number instead of a string (MageFlow writes strings only).</summary>
    public static Task SetNumberAsync(IDatabase db, RedisKey key, string field, long value) =>
        db.ScriptEvaluateAsync(ChangeScript, [key], [field, value, "number"]);

    /// <summary>Removes one field, keeping the key's expiry.</summary>
    public static Task DeleteAsync(IDatabase db, RedisKey key, string field) =>
        db.ScriptEvaluateAsync(ChangeScript, [key], [field]);
}
