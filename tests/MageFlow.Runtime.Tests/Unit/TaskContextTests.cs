using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>A run's services: one scope per run, made only when the run asks, disposed when it ends.</summary>
public sealed class TaskContextTests
{
    [Fact]
    public async Task The_scope_is_made_on_first_use_once_and_disposed_with_its_services_when_the_run_ends()
    {
        var scopes = new CountingScopes(new ServiceCollection().AddScoped<ScopedThing>().BuildServiceProvider());
        var context = new TaskContext("sig", "task", 1, 1, scopes, null);
        Assert.Equal(0, scopes.Created);

        var thing = context.Services.GetRequiredService<ScopedThing>();
        Assert.Same(thing, context.Services.GetRequiredService<ScopedThing>());
        Assert.Equal(1, scopes.Created);

        await context.EndAsync();

        Assert.True(thing.Disposed);
        Assert.Throws<ObjectDisposedException>(() => context.Services);
        Assert.Equal(1, scopes.Created);
    }

    [Fact]
    public async Task A_run_that_never_asks_for_services_makes_no_scope_and_gets_none_after_it_ended()
    {
        var scopes = new CountingScopes(new ServiceCollection().BuildServiceProvider());
        var context = new TaskContext("sig", "task", 1, 1, scopes, null);

        await context.EndAsync();

        Assert.Equal(0, scopes.Created);
        Assert.Throws<ObjectDisposedException>(() => context.Services);
    }

    [Fact]
    public async Task Runs_asking_at_once_from_many_threads_share_one_scope()
    {
        var scopes = new CountingScopes(new ServiceCollection().AddScoped<ScopedThing>().BuildServiceProvider());
        var context = new TaskContext("sig", "task", 1, 1, scopes, null);

        var things = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => context.Services.GetRequiredService<ScopedThing>())));

        Assert.Single(things.Distinct());
        await context.EndAsync();
        Assert.True(things[0].Disposed);
    }

    [Fact]
    public void A_scope_asked_for_while_the_run_ends_is_disposed_and_refused_not_left_behind()
    {
        TaskContext? context = null;
        // The run ends between the scope being made and being kept: work the body left running asks as the run ends.
        var scopes = new CountingScopes(new ServiceCollection().BuildServiceProvider(), onCreated: () => context!.EndAsync().AsTask().Wait());
        context = new TaskContext("sig", "task", 1, 1, scopes, null);

        Assert.Throws<ObjectDisposedException>(() => context.Services);

        Assert.Equal(1, scopes.Created);
        Assert.Equal(1, scopes.Disposed);
    }

    private sealed class ScopedThing : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private sealed class CountingScopes(ServiceProvider root, Action? onCreated = null) : IServiceScopeFactory
    {
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public int Disposed => Volatile.Read(ref _disposed);

        public IServiceScope CreateScope()
        {
            Interlocked.Increment(ref _created);
            var scope = new CountedScope(root.GetRequiredService<IServiceScopeFactory>().CreateScope(), () => Interlocked.Increment(ref _disposed));
            onCreated?.Invoke();
            return scope;
        }

        private sealed class CountedScope(IServiceScope inner, Action onDisposed) : IServiceScope
        {
            public IServiceProvider ServiceProvider => inner.ServiceProvider;

            public void Dispose()
            {
                onDisposed();
                inner.Dispose();
            }
        }
    }
}
