using k8s.Models;
using Switchboard.ApiServer.Kinds;

namespace Switchboard.ApiServer.Tests.Kinds;

/// <summary>What an update may change in a pod's spec, as kube-apiserver's ValidatePodUpdate: each allowed change alone passes, anything else is Forbidden on its field.</summary>
public sealed class PodUpdateRulesTests
{
    [Fact]
    public void An_unchanged_spec_passes() => Assert.Empty(PodUpdateRules.Validate(Spec(), Spec()));

    [Fact]
    public void A_container_image_may_change()
    {
        var spec = Spec();
        spec.Containers[0].Image = "nginx:1.27";

        Assert.Empty(PodUpdateRules.Validate(spec, Spec()));
    }

    [Fact]
    public void An_emptied_image_is_required_not_forbidden()
    {
        var spec = Spec();
        spec.Containers[0].Image = "";

        var error = Assert.Single(PodUpdateRules.Validate(spec, Spec()));
        Assert.Equal(("spec.containers[0].image", "FieldValueRequired"), (error.Field, error.Reason));
    }

    [Fact]
    public void Adding_a_container_is_forbidden()
    {
        var spec = Spec();
        spec.Containers.Add(new V1Container { Name = "sidecar", Image = "busybox" });

        var error = Assert.Single(PodUpdateRules.Validate(spec, Spec()));
        Assert.Equal("spec.containers: Forbidden: pod updates may not add or remove containers", error.ToString());
    }

    [Fact]
    public void Setting_the_node_name_is_forbidden_with_the_difference_shown()
    {
        var spec = Spec();
        spec.NodeName = "node-1";

        var error = Assert.Single(PodUpdateRules.Validate(spec, Spec()));
        Assert.Equal(("spec", "FieldValueForbidden"), (error.Field, error.Reason));
        Assert.StartsWith("Forbidden: pod updates may not change fields other than `spec.containers[*].image`", error.Body, StringComparison.Ordinal);
        Assert.Contains("node-1", error.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void A_toleration_may_be_added_but_not_removed()
    {
        var added = Spec();
        added.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoSchedule" }];

        Assert.Empty(PodUpdateRules.Validate(added, Spec()));
        var error = Assert.Single(PodUpdateRules.Validate(Spec(), added));
        Assert.Equal(("spec.tolerations", "FieldValueForbidden"), (error.Field, error.Reason));
    }

    [Fact]
    public void Active_deadline_may_be_set_or_lowered_but_not_raised()
    {
        var lowered = Spec();
        lowered.ActiveDeadlineSeconds = 30;
        var old = Spec();
        old.ActiveDeadlineSeconds = 60;

        Assert.Empty(PodUpdateRules.Validate(old, Spec()));
        Assert.Empty(PodUpdateRules.Validate(lowered, old));
        var error = Assert.Single(PodUpdateRules.Validate(old, lowered));
        Assert.Equal("spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value", error.ToString());
    }

    [Fact]
    public void A_negative_grace_period_may_become_one_and_nothing_else()
    {
        var old = Spec();
        old.TerminationGracePeriodSeconds = -1;
        var one = Spec();
        one.TerminationGracePeriodSeconds = 1;
        var two = Spec();
        two.TerminationGracePeriodSeconds = 2;

        Assert.Empty(PodUpdateRules.Validate(one, old));
        Assert.Equal("spec", Assert.Single(PodUpdateRules.Validate(two, old)).Field);
    }

    [Fact]
    public void A_scheduling_gate_may_be_removed_but_not_added()
    {
        var gated = Spec();
        gated.SchedulingGates = [new V1PodSchedulingGate { Name = "example.com/wait" }];

        Assert.Empty(PodUpdateRules.Validate(Spec(), gated));
        var error = Assert.Single(PodUpdateRules.Validate(gated, Spec()));
        Assert.Equal("spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/wait'", error.ToString());
    }

    [Fact]
    public void A_gated_pod_may_gain_node_selector_keys_but_not_change_one()
    {
        var old = Spec();
        old.SchedulingGates = [new V1PodSchedulingGate { Name = "example.com/wait" }];
        old.NodeSelector = new Dictionary<string, string> { ["zone"] = "a" };
        var narrowed = Spec();
        narrowed.SchedulingGates = old.SchedulingGates;
        narrowed.NodeSelector = new Dictionary<string, string> { ["zone"] = "a", ["disk"] = "ssd" };
        var changed = Spec();
        changed.SchedulingGates = old.SchedulingGates;
        changed.NodeSelector = new Dictionary<string, string> { ["zone"] = "b" };

        Assert.Empty(PodUpdateRules.Validate(narrowed, old));
        var error = Assert.Single(PodUpdateRules.Validate(changed, old));
        Assert.Equal(("spec.nodeSelector", "FieldValueInvalid"), (error.Field, error.Reason));
    }

    private static V1PodSpec Spec() => new()
    {
        Containers = [new V1Container { Name = "web", Image = "nginx:1.25" }],
        RestartPolicy = "Always",
        TerminationGracePeriodSeconds = 30,
    };
}
