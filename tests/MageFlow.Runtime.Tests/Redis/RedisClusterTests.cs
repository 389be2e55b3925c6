using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MageFlow.Runtime.Tests.Redis;

/// <summary>
/// Pointed at a Redis Cluster, the current key layout cannot work (its scripts touch keys of many slots): every
/// entry point refuses at once with a message that says why, instead of starting and never delivering a callback.
/// </summary>
public sealed class RedisClusterTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task The_backend_refuses_a_cluster_when_it_connects()
    {
        await using var backend = new RedisBackend(new RedisBackendOptions { Configuration = cluster.Configuration, KeyPrefix = "refused" },
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RedisBackend>.Instance);

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => backend.GetSignatureAsync("any", default));

        Assert.Contains("cluster mode", refused.Message);
        Assert.Contains("CROSSSLOT", refused.Message);
        Assert.Contains(cluster.Configuration.Split(',')[0], refused.Message);
    }

    [Fact]
    public async Task Signing_against_a_cluster_fails_with_that_message()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMageFlow(options =>
        {
            options.IncludeGeneratedTasks = false;
            options.UseRedis(cluster.Configuration);
        });
        using var host = builder.Build();
        var mage = host.Services.GetRequiredService<IMageFlow>();

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => mage.AsignAsync("any-task"));

        Assert.Contains("cluster mode", refused.Message);
    }

    [Fact]
    public async Task A_worker_host_against_a_cluster_fails_to_start_with_that_message()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMageFlow(options =>
        {
            options.IncludeGeneratedTasks = false;
            options.UseRedis(cluster.Configuration);
            options.AddTask(TaskDescriptor.Create<EmptyMessage>("cluster-probe", (_, _, _) => ValueTask.CompletedTask));
        });
        builder.Services.AddMageFlowWorker();
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => host.StartAsync());

        Assert.Contains("cluster mode", refused.Message);
    }

    public sealed record EmptyMessage;
}
