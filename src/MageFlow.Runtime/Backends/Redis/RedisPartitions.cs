using System.Text;
using MageFlow.Signatures;

namespace MageFlow.Backends.Redis;

/// <summary>
/// The partitions of a store (docs/redis-v2-design.md §3), each a hash tag, so a Redis Cluster can serve each from
/// another master. Partition 0 is the store's own tag <c>{prefix}</c>, so a store of one partition keeps the layout it
/// had before partitions; partition k is <c>{prefix#suffix}</c>, its suffix chosen so the partitions' slots lie evenly
/// over the 16,384 slots (a cluster made by <c>redis-cli --cluster create</c> gives each master an even range, so they
/// land on different masters). A signature id names its partition — <c>suffix.random</c>, no dot for partition 0 —
/// so any id maps to its keys without a lookup; the Lua scripts read it the same way (<c>here</c> in common.lua).
/// </summary>
internal sealed class RedisPartitions
{
    /// <summary>Between the prefix and a partition's suffix, inside the braces; never part of a key prefix.</summary>
    public const char Separator = '#';

    /// <summary>Between a partition's suffix and the random part of an id.</summary>
    public const char IdSeparator = '.';

    /// <summary>The most partitions a store may have: each costs every worker a read per poll.</summary>
    public const int MaxCount = 256;

    private const int SlotCount = 16384;

    private readonly string _prefix;
    private readonly string[] _tags;
    private readonly string[] _suffixes;
    private readonly Dictionary<string, int> _bySuffix;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _bySuffixSpan;
    private int _nextPlacement = -1;

    /// <param name="prefix">The user's key prefix (validated by <see cref="RedisLayout"/>).</param>
    /// <param name="count">How many partitions, 1 to <see cref="MaxCount"/>.</param>
    public RedisPartitions(string prefix, int count)
    {
        if (count is < 1 or > MaxCount)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"RedisBackendOptions.Partitions must be between 1 and {MaxCount}; it is {count}.");
        _prefix = prefix;
        _suffixes = ChooseSuffixes(prefix, count);
        _tags = _suffixes.Select(suffix => suffix.Length == 0 ? "{" + prefix + "}" : "{" + prefix + Separator + suffix + "}").ToArray();
        _bySuffix = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 1; i < count; i++) _bySuffix[_suffixes[i]] = i;
        _bySuffixSpan = _bySuffix.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _tags.Length;

    /// <summary>The hash tag of partition <paramref name="partition"/>, braces included.</summary>
    public string Tag(int partition) => _tags[partition];

    /// <summary>Each partition's suffix, in order (partition 0's is empty): what the store's layout record keeps.</summary>
    public string Describe() => string.Join(',', _suffixes.Skip(1));

    /// <summary>The partition an id names; -1 when it names one this store does not have (an id made up by hand, or under another partition count).</summary>
    public int IndexOf(string id)
    {
        var dot = id.IndexOf(IdSeparator);
        if (dot < 0) return 0;
        return _bySuffixSpan.TryGetValue(id.AsSpan(0, dot), out var partition) ? partition : -1;
    }

    /// <summary>The hash tag of the partition an id names, whether or not this store has it (the scripts read ids the same way).</summary>
    public string TagOf(string id)
    {
        var partition = IndexOf(id);
        return partition >= 0 ? _tags[partition] : "{" + _prefix + Separator + id[..id.IndexOf(IdSeparator)] + "}";
    }

    /// <summary>
    /// A new signature id, placed where the signatures it will touch are (its callbacks, a chain's steps): in the
    /// partition most of them share, so its transitions reach them without the outbox; else the next partition in turn,
    /// which spreads the load.
    /// </summary>
    public string NewId(IReadOnlyList<string> related)
    {
        if (Count == 1) return SignatureRecord.NewId();
        var partition = MostShared(related);
        if (partition < 0) partition = (int)((uint)Interlocked.Increment(ref _nextPlacement) % (uint)Count);
        return partition == 0 ? SignatureRecord.NewId() : _suffixes[partition] + IdSeparator + SignatureRecord.NewId();
    }

    /// <summary>The partition most of <paramref name="related"/> are in (a tie goes to the one listed first); -1 when none is known.</summary>
    private int MostShared(IReadOnlyList<string> related)
    {
        if (related.Count == 0) return -1;
        Span<int> votes = stackalloc int[Count];
        var best = -1;
        foreach (var id in related)
        {
            var partition = IndexOf(id);
            if (partition < 0) continue;
            votes[partition]++;
            if (best < 0 || votes[partition] > votes[best]) best = partition;
        }
        return best;
    }

    /// <summary>
    /// The slots are cut into <paramref name="count"/> equal ranges. Partition 0 (no suffix: the store's own tag) is in
    /// whichever range its slot falls; each other partition takes one of the remaining ranges, in order, with the first
    /// short suffix whose slot lies in that range's middle half (clear of its edges, where a cluster's masters' ranges
    /// meet). The same for every process.
    /// </summary>
    private static string[] ChooseSuffixes(string prefix, int count)
    {
        var suffixes = new string[count];
        suffixes[0] = "";
        var baseRange = RangeOf(HashSlot(prefix), count);
        var k = 1;
        for (var range = 0; range < count; range++)
        {
            if (range == baseRange) continue;
            var (from, to) = (range * SlotCount / count, (range + 1) * SlotCount / count);
            var quarter = (to - from) / 4;
            for (var candidate = 0; ; candidate++)
            {
                var suffix = Base36(candidate);
                var slot = HashSlot(prefix + Separator + suffix);
                if (slot >= from + quarter && slot < to - quarter)
                {
                    suffixes[k++] = suffix;
                    break;
                }
            }
        }
        return suffixes;
    }

    private static int RangeOf(int slot, int count) => (int)((long)slot * count / SlotCount);

    private static string Base36(int value)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var text = new StringBuilder();
        do
        {
            text.Insert(0, digits[value % 36]);
            value /= 36;
        } while (value > 0);
        return text.ToString();
    }

    /// <summary>The Redis Cluster slot of a hash tag's content: CRC16 (XMODEM) of its UTF-8 bytes, modulo 16,384 (the cluster specification).</summary>
    internal static int HashSlot(string tagContent)
    {
        ushort crc = 0;
        foreach (var b in Encoding.UTF8.GetBytes(tagContent))
        {
            crc ^= (ushort)(b << 8);
            for (var bit = 0; bit < 8; bit++) crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
        }
        return crc % SlotCount;
    }
}
