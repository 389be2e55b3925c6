using MageFlow.Backends.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>How a store is split into partitions: their hash tags, where their slots fall, and ids that name them.</summary>
public sealed class RedisPartitionsTests
{
    [Theory]
    [InlineData("123456789", 0x31C3 % 16384)] // the CRC16 check value in the Redis Cluster specification
    [InlineData("somekey", 11058)]            // CLUSTER KEYSLOT examples in the Redis documentation
    [InlineData("foo", 12182)]
    public void The_hash_slot_is_the_one_Redis_Cluster_computes(string key, int slot) =>
        Assert.Equal(slot, RedisPartitions.HashSlot(key));

    [Fact]
    public void One_partition_is_the_layout_before_partitions_its_ids_have_no_partition_name()
    {
        var layout = new RedisLayout("shop", 1);
        var id = layout.Partitions.NewId([]);
        Assert.DoesNotContain('.', id);
        Assert.Equal("{shop}:s:" + id, (string)layout.Signature(id)!);
        Assert.Equal("{shop}:q:charge", (string)layout.Queue(0, "charge")!);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(16)]
    public void The_partitions_slots_lie_one_in_each_equal_range_so_a_cluster_made_by_redis_cli_spreads_them(int count)
    {
        var partitions = new RedisPartitions("shop", count);
        Assert.Equal("{shop}", partitions.Tag(0));
        var ranges = Enumerable.Range(0, count).Select(k => RedisPartitions.HashSlot(partitions.Tag(k)[1..^1]) * count / 16384).ToArray();
        Assert.Equal(Enumerable.Range(0, count), ranges.Order());
        // The same for every process: the names are computed from the prefix and the count alone.
        Assert.Equal(partitions.Describe(), new RedisPartitions("shop", count).Describe());
    }

    [Fact]
    public void An_id_names_its_partition_and_maps_to_its_keys_without_a_lookup()
    {
        var layout = new RedisLayout("shop", 4);
        var ids = Enumerable.Range(0, 8).Select(_ => layout.Partitions.NewId([])).ToArray();
        // Signatures with nothing to be near are placed in turn: every partition gets its share.
        Assert.Equal([0, 1, 2, 3], ids.Select(layout.Partitions.IndexOf).Distinct().Order());
        foreach (var id in ids)
        {
            var key = (string)layout.Signature(id)!;
            Assert.StartsWith(layout.Partitions.Tag(layout.Partitions.IndexOf(id)) + ":s:", key);
            Assert.Equal(id, RedisLayout.SignatureIdOf(key));
        }
    }

    [Fact]
    public void A_signature_is_placed_in_the_partition_most_of_the_signatures_it_touches_share()
    {
        var partitions = new RedisPartitions("shop", 4);
        string In(int partition)
        {
            while (true)
            {
                var id = partitions.NewId([]);
                if (partitions.IndexOf(id) == partition) return id;
            }
        }
        var (a, b, c) = (In(1), In(1), In(3));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(1, partitions.IndexOf(partitions.NewId([a, c, b])));
            Assert.Equal(3, partitions.IndexOf(partitions.NewId([c, a]))); // a tie goes to the first listed
        }
    }

    [Fact]
    public void An_id_of_a_partition_the_store_does_not_have_is_known_as_such()
    {
        var partitions = new RedisPartitions("shop", 2);
        Assert.Equal(-1, partitions.IndexOf("zz9.AAAAAAAAAAAAAAAA"));
        Assert.Equal("{shop#zz9}", partitions.TagOf("zz9.AAAAAAAAAAAAAAAA"));
    }

    [Fact]
    public void A_prefix_with_the_partition_separator_or_a_count_out_of_range_is_refused_naming_the_option()
    {
        Assert.Contains("KeyPrefix 'a#b'", Assert.Throws<ArgumentException>(() => new RedisLayout("a#b")).Message);
        Assert.Contains("Partitions must be between 1 and 256", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLayout("a", 0)).Message);
        Assert.Contains("Partitions must be between 1 and 256", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLayout("a", 257)).Message);
    }
}
