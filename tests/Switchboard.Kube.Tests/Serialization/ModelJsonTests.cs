using k8s.Models;
using Switchboard.Kube.Serialization;

namespace Switchboard.Kube.Tests.Serialization;

public sealed class ModelJsonTests
{
    [Fact]
    public void Same_content_ignores_the_order_of_object_keys_but_not_values()
    {
        var a = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "frontend" };
        var b = new Dictionary<string, string> { ["tier"] = "frontend", ["app"] = "web" };

        Assert.True(ModelJson.SameContent(a, b));
        Assert.False(ModelJson.SameContent(a, new Dictionary<string, string> { ["app"] = "web", ["tier"] = "backend" }));
    }

    [Fact]
    public void Semantic_equality_takes_an_empty_object_or_list_for_an_absent_one()
    {
        var bare = new V1Container { Name = "nginx", Image = "nginx:1.27" };
        var emptied = new V1Container { Name = "nginx", Image = "nginx:1.27", Resources = new V1ResourceRequirements(), Ports = [] };

        Assert.False(ModelJson.SameContent(bare, emptied));
        Assert.True(ModelJson.SemanticallyEqual(bare, emptied));
        Assert.False(ModelJson.SemanticallyEqual(bare, new V1Container { Name = "nginx", Image = "nginx:1.28" }));
    }

    [Fact]
    public void Semantic_equality_keeps_an_empty_emptyDir_which_means_something()
    {
        var withEmptyDir = new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() };

        Assert.False(ModelJson.SemanticallyEqual(withEmptyDir, new V1Volume { Name = "scratch" }));
    }
}
