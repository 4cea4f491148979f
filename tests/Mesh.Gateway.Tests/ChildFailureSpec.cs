using Akka.Actor;

namespace Mesh.Gateway.Tests;

/// <summary>What a failing child of the gateway becomes: flows stop, its parts, entries and links keep their state, probes start again.</summary>
public sealed class ChildFailureSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Counts "count" messages and answers the count; "boom" throws.</summary>
    private sealed class Counter : ReceiveActor
    {
        public Counter()
        {
            var count = 0;
            Receive<string>(m => m == "boom", _ => throw new InvalidOperationException("boom"));
            Receive<string>(m => m == "count", _ => Sender.Tell(++count));
        }
    }

    /// <summary>Creates the named children under the gateway's strategy.</summary>
    private sealed class Parent : ReceiveActor
    {
        public Parent(string[] names)
        {
            foreach (var name in names) Context.ActorOf(Props.Create(() => new Counter()), name);
            Receive<string>(name => Sender.Tell(Context.Child(name)));
        }

        protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.ByChildName();
    }

    private async Task<IActorRef> Child(string name)
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent(new[] { name })));
        return await parent.Ask<IActorRef>(name, Answer);
    }

    /// <summary>The child fails on its next message; what it answers next shows what became of it.</summary>
    private static Task Boom(IActorRef child)
    {
        child.Tell("boom");
        return Task.CompletedTask;
    }

    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("listener-1")]
    [InlineData("link-core1")]
    [InlineData("routes")]
    [InlineData("data-plane")]
    [InlineData("reports")]
    [InlineData("peer-flows")]
    public async Task A_part_an_entry_or_a_link_that_fails_goes_on_with_what_it_had(string name)
    {
        var child = await Child(name);
        Assert.Equal(1, await child.Ask<int>("count", Answer));
        await Boom(child);
        Assert.Equal(2, await child.Ask<int>("count", Answer));   // resumed: its state is kept
    }

    [Fact]
    public async Task A_probe_that_fails_starts_again()
    {
        var child = await Child("probe-3");
        Assert.Equal(1, await child.Ask<int>("count", Answer));
        await Boom(child);
        Assert.Equal(1, await child.Ask<int>("count", Answer));   // restarted: a fresh count
    }

    [Fact]
    public async Task A_flow_that_fails_stops_and_is_never_run_again()
    {
        var flow = await Child("flow");   // any other name: the gateway's flows are unnamed ($a, $b…), which cannot be given here
        Watch(flow);
        await Boom(flow);
        await ExpectTerminatedAsync(flow);
    }
}
