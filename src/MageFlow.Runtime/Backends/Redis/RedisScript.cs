using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// One embedded Lua script, run by its SHA1 (EVALSHA) so each call sends only the hash. When the server's
/// script cache was emptied (restart, failover, SCRIPT FLUSH) the call is repeated once with EVAL, which also
/// caches it again; NOSCRIPT means the script did not run, so repeating it is safe.
/// </summary>
internal sealed class RedisScript
{
    private RedisScript(string name, string source)
    {
        Name = name;
        Source = source;
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(source));
    }

    public string Name { get; }

    public string Source { get; }

    public byte[] Hash { get; }

    /// <summary>Loads <c>Backends/Redis/Scripts/{fileName}.lua</c> from this assembly's resources.</summary>
    public static RedisScript FromResource(string fileName)
    {
        var resource = $"MageFlow.Redis.{fileName}.lua";
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"The embedded Lua script '{resource}' is missing from MageFlow.Runtime.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new RedisScript(fileName, reader.ReadToEnd());
    }

    public async Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(Hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // A plain EVAL (not the library's string overload, which may itself choose EVALSHA from a stale cache).
            var arguments = new List<object>(2 + keys.Length + values.Length) { Source, keys.Length };
            foreach (var key in keys) arguments.Add(key);
            foreach (var value in values) arguments.Add(value);
            return await database.ExecuteAsync("EVAL", arguments).ConfigureAwait(false);
        }
    }
}
