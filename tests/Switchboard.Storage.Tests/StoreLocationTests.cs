namespace Switchboard.Storage.Tests;

public sealed class StoreLocationTests
{
    [Fact]
    public void Sqlite_is_the_embedded_store()
    {
        var location = StoreLocation.Parse("sqlite");
        Assert.False(location.IsEtcd);
        Assert.Equal("sqlite", location.ToString());
    }

    [Fact]
    public void Etcd_members_are_parsed_in_order()
    {
        var location = StoreLocation.Parse("etcd://127.0.0.1:2379,127.0.0.2:22379");
        Assert.True(location.IsEtcd);
        Assert.Equal(["http://127.0.0.1:2379/", "http://127.0.0.2:22379/"], location.EtcdEndpoints.Select(u => u.ToString()));
        Assert.Equal("etcd://127.0.0.1:2379,127.0.0.2:22379", location.ToString());
    }

    [Fact]
    public void Https_members_as_kube_apiserver_names_them_are_reached_over_tls()
    {
        var location = StoreLocation.Parse("https://127.0.0.1:2379,https://127.0.0.2:22379");
        Assert.True(location.IsTls);
        Assert.Equal(["https://127.0.0.1:2379/", "https://127.0.0.2:22379/"], location.EtcdEndpoints.Select(u => u.ToString()));
        Assert.Equal("https://127.0.0.1:2379,https://127.0.0.2:22379", location.ToString());
        Assert.False(StoreLocation.Parse("http://127.0.0.1:2379").IsTls);
        Assert.False(StoreLocation.Parse("etcd://127.0.0.1:2379").IsTls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("https://127.0.0.1:2379,http://127.0.0.2:2379")]
    [InlineData("https://127.0.0.1")]
    [InlineData("https://127.0.0.1:2379/path")]
    [InlineData("postgres")]
    [InlineData("etcd://")]
    [InlineData("etcd://127.0.0.1")]
    [InlineData("etcd://127.0.0.1:2379/path")]
    [InlineData("etcd://127.0.0.1:2379,")]
    public void Malformed_locations_are_refused_with_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => StoreLocation.Parse(text));
        Assert.Contains("'", error.Message, StringComparison.Ordinal);
    }
}
