using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.EtcdFront;

/// <summary>
/// What etcdctl 3.4 cannot ask for, asked with dotnet-etcd's generated gRPC client (the etcd protocol as etcd's own
/// clients speak it): watch filters, progress notification, a watch from a compacted revision, and v2's keys API with curl.
/// </summary>
public sealed class FrontWatchTests(EtcdFrontFixture front) : IClassFixture<EtcdFrontFixture>, IDisposable
{
    private readonly string _prefix = $"/watch/{Guid.NewGuid():N}/";
    private readonly GrpcChannel _channel = Channel(front);

    [Fact]
    public async Task A_watch_with_a_no_put_filter_sees_only_deletes_and_a_progress_notification_carries_the_revision()
    {
        var client = new Watch.WatchClient(_channel);
        using var call = client.Watch();
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(_prefix),
                RangeEnd = ByteString.CopyFromUtf8(_prefix[..^1] + "0"),
                Filters = { WatchCreateRequest.Types.FilterType.Noput },
                ProgressNotify = true,
            },
        });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(call.ResponseStream.Current.Created);

        await front.Store.PutAsync(_prefix + "a", Bytes("1"));
        var deleted = await front.Store.DeleteAsync(_prefix + "a");
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var change = Assert.Single(call.ResponseStream.Current.Events);
        Assert.Equal(Mvccpb.Event.Types.EventType.Delete, change.Type);
        Assert.Equal(deleted.Revision, change.Kv.ModRevision);

        // The fixture notifies every second; with nothing more to send, a notification has no events and a revision
        // the watch has passed.
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var progress = call.ResponseStream.Current;
        Assert.Empty(progress.Events);
        Assert.False(progress.Canceled);
        Assert.True(progress.Header.Revision >= deleted.Revision);
    }

    [Fact]
    public async Task A_count_only_range_counts_without_keys_and_a_keys_only_range_has_no_values()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            await front.Store.PutAsync(_prefix + name, Bytes("value-" + name));
        }

        var client = new KV.KVClient(_channel);
        var prefix = ByteString.CopyFromUtf8(_prefix);
        var end = ByteString.CopyFromUtf8(_prefix[..^1] + "0");

        var counted = await client.RangeAsync(new RangeRequest { Key = prefix, RangeEnd = end, CountOnly = true });
        Assert.Equal(3, counted.Count);
        Assert.Empty(counted.Kvs);

        var keys = await client.RangeAsync(new RangeRequest { Key = prefix, RangeEnd = end, KeysOnly = true, Limit = 2 });
        Assert.Equal([_prefix + "a", _prefix + "b"], keys.Kvs.Select(kv => kv.Key.ToStringUtf8()));
        Assert.All(keys.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal((3L, true), (keys.Count, keys.More));
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_is_canceled_with_the_compact_revision()
    {
        var old = await front.Store.PutAsync(_prefix + "k", Bytes("1"));
        var current = await front.Store.PutAsync(_prefix + "k", Bytes("2"));
        await front.Store.CompactAsync(current.ModRevision);

        var watch = await front.EtcdctlAsync("watch", _prefix + "k", "--rev", old.ModRevision.ToString(CultureInfo.InvariantCulture));

        Assert.Contains("required revision has been compacted", watch.Stdout + watch.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_reads_the_skydns_tree_through_v2s_keys_api()
    {
        string service = $"/skydns/local/cluster/svc/{Guid.NewGuid():N}/backend";
        var record = await front.Store.PutAsync(service + "/3f1a", Bytes("""{"host":"10.96.0.20","priority":10,"weight":10,"ttl":30}"""));

        var found = (await CurlAsync($"/v2/keys{service}?recursive=true")).EnsureSuccess("curl");
        Assert.Contains($"\"key\":\"{service}/3f1a\"", found.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"value\":\"{\\u0022host\\u0022:\\u002210.96.0.20\\u0022", found.Stdout, StringComparison.Ordinal);
        Assert.Contains($"\"modifiedIndex\":{record.ModRevision}", found.Stdout, StringComparison.Ordinal);

        var missing = await CurlAsync("/v2/keys/skydns/local/cluster/svc/nothing-here");
        Assert.Contains("\"errorCode\":100", missing.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"message\":\"Key not found\"", missing.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => _channel.Dispose();

    private Task<ProcessResult> CurlAsync(string path) => ChildProcess.RunAsync(
        "curl",
        ["-s", "--cacert", front.Front.CaFile, "--cert", front.Front.ClientCertificate.CertificateFile, "--key", front.Front.ClientCertificate.KeyFile, front.Endpoint + path]);

    private static GrpcChannel Channel(EtcdFrontFixture front)
    {
        var authority = X509CertificateLoader.LoadCertificateFromFile(front.Front.CaFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [X509Certificate2.CreateFromPemFile(front.Front.ClientCertificate.CertificateFile, front.Front.ClientCertificate.KeyFile)],
                CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { authority }, RevocationMode = X509RevocationMode.NoCheck },
            },
        };
        return GrpcChannel.ForAddress(front.Endpoint, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
