using k8s.Models;
using Switchboard.ApiServer.Kinds;

namespace Switchboard.ApiServer.Tests.Kinds;

/// <summary>The selector rules of a Deployment (ValidateDeploymentSpec, ValidateDeploymentUpdate), checked without a server.</summary>
public sealed class DeploymentStrategyTests
{
    private static readonly DeploymentStrategy Strategy = new();

    private static V1Deployment Deployment(V1LabelSelector selector) => new()
    {
        Metadata = new V1ObjectMeta { Name = "backend" },
        Spec = new V1DeploymentSpec
        {
            Selector = selector,
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "critical-app", ["role"] = "backend" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "nginx", Image = "nginx" }] },
            },
        },
    };

    private static V1LabelSelector Expressions(string op, params string[] values) => new()
    {
        MatchLabels = new Dictionary<string, string> { ["app"] = "critical-app" },
        MatchExpressions = [new V1LabelSelectorRequirement { Key = "role", OperatorProperty = op, Values = values }],
    };

    [Fact]
    public void A_selector_whose_expressions_select_the_template_is_valid()
    {
        var deployment = Deployment(Expressions("In", "backend", "frontend"));
        Strategy.Default(deployment);

        Assert.Empty(Strategy.Validate(deployment));
    }

    [Fact]
    public void A_selector_whose_expressions_miss_the_template_labels_is_invalid()
    {
        var deployment = Deployment(Expressions("NotIn", "backend"));
        Strategy.Default(deployment);

        var error = Assert.Single(Strategy.Validate(deployment));
        Assert.Equal(("spec.template.metadata.labels", "`selector` does not match template `labels`"), (error.Field, error.Detail));
    }

    [Fact]
    public void The_selector_is_immutable_but_the_order_of_its_labels_is_not_a_change()
    {
        var old = Deployment(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "critical-app", ["role"] = "backend" } });
        var reordered = Deployment(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["role"] = "backend", ["app"] = "critical-app" } });
        var changed = Deployment(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "critical-app" } });
        foreach (var d in new[] { old, reordered, changed })
        {
            Strategy.Default(d);
        }

        Assert.Empty(Strategy.ValidateUpdate(reordered, old));
        var error = Assert.Single(Strategy.ValidateUpdate(changed, old));
        Assert.Equal(("spec.selector", "field is immutable"), (error.Field, error.Detail));
    }
}
