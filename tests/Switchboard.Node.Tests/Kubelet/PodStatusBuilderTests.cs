using k8s.Models;
using Switchboard.Node.Kubelet;
using Switchboard.Node.Runtime;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Tests.Kubelet;

public sealed class PodStatusBuilderTests
{
    private static readonly DateTime Started = new(2026, 12, 4, 5, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Transition_times_follow_the_status_the_node_wrote_last_while_its_cached_pod_lags_behind()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Uid = "u1" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "switchboard/echo" }] },
            Status = new V1PodStatus { Phase = "Pending", Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True" }] },
        };
        var container = new ContainerState("web") { RestartCount = 0, Waiting = null, Instance = new ContainerInstance(new InstanceFiles("/nonexistent/web/0"), 42, Started) };
        var state = new PodState("u1", "default/web") { SandboxState = new SandboxState("default", "web", "10.244.0.2", 41, 1, Started), StartTime = Started };
        state.Containers["web"] = container;

        // Running, not ready yet: written at t1.
        var t1 = Started.AddMilliseconds(100);
        var running = PodStatusBuilder.Build(pod, state, "127.0.0.1", t1);

        // Ready at t2, synced on the pod as the cache still has it: without the node's running status.
        container.Ready = true;
        var t2 = Started.AddMilliseconds(200);
        var ready = PodStatusBuilder.Build(pod, state, "127.0.0.1", t2, running);
        Assert.Equal(t1, Transition(ready, "PodReadyToStartContainers"));
        Assert.Equal(t1, Transition(ready, "Initialized"));
        Assert.Equal(t2, Transition(ready, "Ready"));
        Assert.Equal(t2, Transition(ready, "ContainersReady"));

        // The cache catches up with the running status, one write behind: nothing has changed since t2.
        pod.Status = running;
        var again = PodStatusBuilder.Build(pod, state, "127.0.0.1", Started.AddMilliseconds(300), ready);
        Assert.Equal(Json(ready), Json(again));
    }

    private static DateTime? Transition(V1PodStatus status, string type) => status.Conditions.Single(c => c.Type == type).LastTransitionTime;

    private static string Json(V1PodStatus status) => k8s.KubernetesJson.Serialize(status);
}
