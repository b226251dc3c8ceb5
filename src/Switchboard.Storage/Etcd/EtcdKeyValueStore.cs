using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Storage.Compaction;

namespace Switchboard.Storage.Etcd;

/// <summary>
/// <see cref="IKeyValueStore"/> on a real etcd cluster through its v3 gRPC API (dotnet-etcd's channel and
/// generated clients). Writes are transactions comparing create/mod revisions, as kube-apiserver's etcd3 store;
/// requests are balanced round-robin over the members and retried on another when one is unavailable;
/// a watch whose member goes away resumes on another from the last revision it delivered.
/// </summary>
public sealed class EtcdKeyValueStore : IKeyValueStore
{
    /// <summary>Asks etcd to end a watch whose member has lost its leader rather than let it go quiet (clientv3.WithRequireLeader).</summary>
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LastRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan WatchCreateTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstReconnectDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastReconnectDelay = TimeSpan.FromSeconds(2);

    private readonly EtcdClient _client;
    private readonly KV.KVClient _kv;
    private readonly Watch.WatchClient _watch;
    private readonly Lease.LeaseClient _lease;
    private readonly EtcdStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closing = new();
    private readonly PeriodicCompactor? _compactor;
    private long _knownCompactedRevision;
    private int _disposed;

    private EtcdKeyValueStore(EtcdClient client, EtcdStoreOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _client = client;
        var connection = client.GetConnection();
        _kv = connection.KVClient;
        _watch = connection.WatchClient;
        _lease = connection.LeaseClient;
        _options = options;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger<EtcdKeyValueStore>();
        if (options.CompactionInterval is { } interval && interval > TimeSpan.Zero)
        {
            _compactor = new PeriodicCompactor(this, interval, timeProvider, loggerFactory.CreateLogger<PeriodicCompactor>());
        }
    }

    /// <summary>A store on the etcd members of <paramref name="location"/>; connections are made on first use.</summary>
    public static EtcdKeyValueStore Connect(StoreLocation location, EtcdStoreOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!location.IsEtcd)
        {
            throw new ArgumentException($"store '{location}' is not an etcd cluster", nameof(location));
        }

        options ??= new EtcdStoreOptions();
        if (!location.IsTls && (options.CaFile ?? options.CertificateFile ?? options.KeyFile) is not null)
        {
            throw new ArgumentException($"store '{location}' is plain gRPC: a CA or client certificate needs https:// endpoints", nameof(options));
        }

        if ((options.CertificateFile is null) != (options.KeyFile is null))
        {
            throw new ArgumentException("a client certificate for etcd needs both its certificate and its key file", nameof(options));
        }

        string endpoints = string.Join(',', location.EtcdEndpoints.Select(u => $"{u.Scheme}://{u.Authority}"));
        var tls = location.IsTls ? ClientTls(options) : null;
        var client = new EtcdClient(endpoints, configureChannelOptions: channel => ConfigureChannel(channel, tls));
        var store = new EtcdKeyValueStore(client, options, timeProvider ?? TimeProvider.System, loggerFactory ?? NullLoggerFactory.Instance);
        EtcdLog.Connecting(store._logger, endpoints);
        store._compactor?.Start();
        return store;
    }

    /// <summary>
    /// dotnet-etcd already gives a static resolver over every endpoint with round-robin balancing. Its gRPC retry
    /// policy is replaced: it resends any request that fails as Unavailable, a write that etcd may have applied
    /// (a timed-out proposal, a member dying after the commit) included, and gives up after 5 tries throttled
    /// from a 1 s backoff. The store retries itself, knowing which requests are safe to send again
    /// (<see cref="SendAsync"/>). Connections to a vanished member are noticed after 10 s of silence rather
    /// than 60, and replies are not capped at 4 MiB, less than three values at the size limit. Over TLS, the members
    /// are verified against <paramref name="tls"/>'s CA, their names included, and shown its client certificate.
    /// </summary>
    private static void ConfigureChannel(GrpcChannelOptions options, SslClientAuthenticationOptions? tls)
    {
        options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
        options.MaxReceiveMessageSize = null;

        // The static resolver's address carries no scheme: the credentials say whether calls use TLS.
        options.Credentials = tls is null ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl;
        if (options.HttpHandler is SocketsHttpHandler handler)
        {
            handler.ConnectTimeout = TimeSpan.FromSeconds(3);
            handler.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            if (tls is not null)
            {
                handler.SslOptions = tls;
            }
        }
    }

    /// <summary>TLS as kube-apiserver's etcd client: the members' certificates chain to the CA file (else the system's roots), and the client certificate when given.</summary>
    private static SslClientAuthenticationOptions ClientTls(EtcdStoreOptions options)
    {
        var tls = new SslClientAuthenticationOptions();
        if (options.CaFile is not null)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(options.CaFile);
            tls.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            tls.CertificateChainPolicy.CustomTrustStore.AddRange(authorities);
        }

        if (options.CertificateFile is not null)
        {
            tls.ClientCertificates = [X509Certificate2.CreateFromPemFile(options.CertificateFile, options.KeyFile)];
        }

        return tls;
    }

    public async Task<long> GetRevisionAsync(CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(o => _kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFrom(0), CountOnly = true }, o), null, cancellationToken);
        return response.Header.Revision;
    }

    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StorageLimits.ValidateKey(key);
        var response = await CallAsync(o => _kv.RangeAsync(new RangeRequest { Key = EtcdKeys.Key(key) }, o), key, cancellationToken);
        return response.Kvs.Count == 0 ? null : ToKeyValue(response.Kvs[0]);
    }

    public async Task<RangeSummary> RangeAsync(string prefix, RangeOptions options, IRangeVisitor visitor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(visitor);
        var (start, end) = options.RangeEnd is null ? EtcdKeys.Prefix(prefix) : (EtcdKeys.Key(prefix), EtcdKeys.Key(options.RangeEnd));
        var request = new RangeRequest
        {
            Key = options.StartAfter is null ? start : EtcdKeys.PageStart(start, options.StartAfter),
            RangeEnd = end,
            Limit = Math.Max(options.Limit, 0),
            Revision = Math.Max(options.Revision, 0),
        };
        var response = await CallAsync(o => _kv.RangeAsync(request, o), prefix, cancellationToken, request.Revision);
        foreach (var kv in response.Kvs)
        {
            visitor.Visit(new KeyValueRow(kv.Key.Span, kv.Value.Span, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease));
        }

        return new RangeSummary(request.Revision > 0 ? request.Revision : response.Header.Revision, response.More, response.Count);
    }

    public async Task<long> CountAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var (start, end) = EtcdKeys.Prefix(prefix);
        var response = await CallAsync(o => _kv.RangeAsync(new RangeRequest { Key = start, RangeEnd = end, CountOnly = true }, o), prefix, cancellationToken);
        return response.Count;
    }

    public async Task<KeyValue> CreateAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, timeToLive);
        var etcdKey = EtcdKeys.Key(key);
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = etcdKey, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
            Failure = { Get(etcdKey) },
        };
        var (response, _, lease) = await PutInTxnAsync(txn, key, value, timeToLive, cancellationToken);
        if (response.Succeeded)
        {
            return new KeyValue(key, value, response.Header.Revision, response.Header.Revision, 1, lease);
        }

        throw new StorageException(StorageError.KeyExists, $"key '{key}' already exists", key, CurrentOf(response));
    }

    public async Task<KeyValue> UpdateAsync(string key, byte[] value, long expectedModRevision, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, timeToLive);
        var etcdKey = EtcdKeys.Key(key);
        var txn = new TxnRequest
        {
            Compare = { Exists(etcdKey), ModifiedAt(etcdKey, expectedModRevision) },
            Failure = { Get(etcdKey) },
        };
        var (response, previous, lease) = await PutInTxnAsync(txn, key, value, timeToLive, cancellationToken);
        if (response.Succeeded && previous is not null)
        {
            return new KeyValue(key, value, previous.CreateRevision, response.Header.Revision, previous.Version + 1, lease);
        }

        throw Mismatch(key, expectedModRevision, CurrentOf(response));
    }

    public async Task<KeyValue> PutAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, timeToLive);
        var (response, previous, lease) = await PutInTxnAsync(new TxnRequest(), key, value, timeToLive, cancellationToken);
        long revision = response.Header.Revision;
        return previous is null
            ? new KeyValue(key, value, revision, revision, 1, lease)
            : new KeyValue(key, value, previous.CreateRevision, revision, previous.Version + 1, lease);
    }

    public async Task<DeleteResult> DeleteAsync(string key, long? expectedModRevision = null, CancellationToken cancellationToken = default)
    {
        StorageLimits.ValidateKey(key);
        var etcdKey = EtcdKeys.Key(key);
        var txn = new TxnRequest
        {
            Compare = { Exists(etcdKey) },
            Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = etcdKey, PrevKv = true } } },
            Failure = { Get(etcdKey) },
        };
        if (expectedModRevision is { } expected)
        {
            txn.Compare.Add(ModifiedAt(etcdKey, expected));
        }

        var response = await CallAsync(o => _kv.TxnAsync(txn, o), key, cancellationToken, write: true);
        if (response.Succeeded && response.Responses[0].ResponseDeleteRange.PrevKvs is [var deleted])
        {
            return new DeleteResult(ToKeyValue(deleted), response.Header.Revision);
        }

        throw Mismatch(key, expectedModRevision ?? 0, CurrentOf(response));
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default) =>
        WatchAsync(prefix, afterRevision, Timeout.InfiniteTimeSpan, cancellationToken);

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, TimeSpan progressInterval, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (progressInterval <= TimeSpan.Zero && progressInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(progressInterval), progressInterval, "a progress interval is positive or infinite");
        }

        ThrowIfDisposed();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        var (key, end) = EtcdKeys.Prefix(prefix);
        long delivered = afterRevision;
        DateTimeOffset? brokenSince = null;
        var delay = FirstReconnectDelay;
        while (true)
        {
            string reason;
            using (var call = _watch.Watch(new CallOptions(RequireLeader, cancellationToken: stop.Token)))
            {
                var create = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = end, StartRevision = delivered + 1, PrevKv = true } };
                (WatchResponse? Response, string Failure) next;

                // A stream that is never confirmed (seen once a member had just been lost) is abandoned for another.
                using (var unconfirmed = new CancellationTokenSource(WatchCreateTimeout, _timeProvider))
                using (unconfirmed.Token.Register(call.Dispose))
                {
                    next = await NextAsync(call, create, cancellationToken);
                }

                await using var progress = new ProgressRequests(call.RequestStream, progressInterval, _timeProvider);
                long notified = 0;
                while (next.Response is { } response)
                {
                    if (response.Canceled)
                    {
                        throw WatchCanceled(prefix, response, delivered);
                    }

                    if (response.Created)
                    {
                        if (brokenSince is not null)
                        {
                            EtcdLog.WatchResumed(_logger, prefix, delivered, response.Header.MemberId);
                            brokenSince = null;
                            delay = FirstReconnectDelay;
                        }

                        progress.Start();
                    }
                    else if (response.Events.Count == 0 && progress.Enabled)
                    {
                        // A progress notification: every event of the watch up to the header's revision has been sent.
                        // An etcd without the fix of etcd-io/etcd#15220 (Debian 12's 3.4.23) may send it ahead of
                        // events already queued for the watch; those go out before the next answer, an interval
                        // later, so a notification's revision is given once the next one confirms it.
                        (long confirmed, notified) = (notified, response.Header.Revision);
                        if (confirmed > delivered)
                        {
                            delivered = confirmed;
                            yield return WatchEvent.ProgressAt(confirmed);
                        }
                    }

                    foreach (var e in response.Events)
                    {
                        progress.Heard();
                        yield return ToWatchEvent(e);
                        delivered = e.Kv.ModRevision;
                    }

                    next = await NextAsync(call, null, cancellationToken);
                }

                reason = next.Failure;
            }

            // The member went away or ended the stream: every revision up to `delivered` has been handed out,
            // so another member picks up exactly after it.
            EtcdLog.WatchBroken(_logger, prefix, delivered, reason);
            brokenSince ??= _timeProvider.GetUtcNow();
            if (_timeProvider.GetUtcNow() - brokenSince > _options.WatchReconnectTimeout)
            {
                throw new StorageException(StorageError.Unavailable, $"watch of '{prefix}' found no etcd member for {_options.WatchReconnectTimeout} ({reason})", prefix, revision: delivered);
            }

            await WaitAsync(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastReconnectDelay.Ticks));
        }
    }

    public async Task<TxnResult> TxnAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        transaction.Validate();

        // A put with a time to live gets a lease of its own, as PutAsync's; the leases of puts in the branch not taken are revoked.
        var leases = new Dictionary<TxnPut, long>(ReferenceEqualityComparer.Instance);
        var kept = new HashSet<long>();
        try
        {
            foreach (var put in EtcdTransactions.Puts(transaction).Where(p => p.TimeToLive is not null))
            {
                leases[put] = await GrantLeaseAsync(put.Key, put.TimeToLive!.Value, cancellationToken);
            }

            var request = EtcdTransactions.ToRequest(transaction, leases);
            var response = await CallAsync(o => _kv.TxnAsync(request, o), transaction.Compares.FirstOrDefault()?.Key, cancellationToken, write: true);
            var result = EtcdTransactions.ToResult(transaction, response.Succeeded, response.Responses, response.Header.Revision, leases, kept);
            return result;
        }
        finally
        {
            foreach (long lease in leases.Values.Where(l => !kept.Contains(l)))
            {
                await RevokeUnusedLeaseAsync(lease);
            }
        }
    }

    public async Task<long> GrantLeaseAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(o => _lease.LeaseGrantAsync(new LeaseGrantRequest { ID = id, TTL = ttlSeconds }, o), null, cancellationToken, write: true);
        return response.ID;
    }

    public async Task<long> KeepAliveLeaseAsync(long id, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _closing.Token);
        try
        {
            using var call = _lease.LeaseKeepAlive(new CallOptions(cancellationToken: linked.Token));
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, linked.Token);
            await call.RequestStream.CompleteAsync();
            return await call.ResponseStream.MoveNext(linked.Token) ? call.ResponseStream.Current.TTL : 0;
        }
        catch (RpcException e)
        {
            throw await TranslateAsync(e, null, 0, cancellationToken);
        }
    }

    public async Task RevokeLeaseAsync(long id, CancellationToken cancellationToken = default) =>
        await CallAsync(o => _lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, o), null, cancellationToken, write: true);

    public async Task<LeaseInfo?> GetLeaseAsync(long id, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(o => _lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = id, Keys = true }, o), null, cancellationToken);
        return response.TTL < 0 ? null : new LeaseInfo(id, response.GrantedTTL, response.TTL, [.. response.Keys.Select(k => k.ToStringUtf8()).Order(StringComparer.Ordinal)]);
    }

    public async Task<IReadOnlyList<long>> ListLeasesAsync(CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(o => _lease.LeaseLeasesAsync(new LeaseLeasesRequest(), o), null, cancellationToken);
        return [.. response.Leases.Select(l => l.ID)];
    }

    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        if (revision <= 0)
        {
            throw new StorageException(StorageError.InvalidArgument, $"cannot compact to revision {revision}");
        }

        try
        {
            await SendAsync(o => _kv.CompactAsync(new CompactionRequest { Revision = revision }, o), cancellationToken);
        }
        catch (RpcException e) when (EtcdErrors.IsCompacted(e))
        {
            // Someone compacted at or past this revision already: the history asked to go is gone.
        }
        catch (RpcException e)
        {
            throw await TranslateAsync(e, null, revision, cancellationToken);
        }

        RaiseKnownCompactedRevision(revision);
    }

    /// <summary>
    /// etcd reports its compacted revision only when a read or watch below it fails, so this finds the
    /// lowest revision that can still be read, starting from the highest compaction already known.
    /// </summary>
    public async Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken = default) =>
        await FindCompactedRevisionAsync(Volatile.Read(ref _knownCompactedRevision), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_compactor is not null)
        {
            await _compactor.DisposeAsync();
        }

        await _closing.CancelAsync();
        _client.Dispose();
    }

    private static void Validate(string key, byte[] value, TimeSpan? timeToLive)
    {
        StorageLimits.ValidateKey(key);
        StorageLimits.ValidateValue(key, value);
        StorageLimits.ValidateTimeToLive(key, timeToLive);
    }

    /// <summary>
    /// Runs <paramref name="txn"/> with a put of the value as its success branch, under a new lease when the key
    /// has a time to live. Returns the response, the value the put replaced, if any, and the lease.
    /// </summary>
    private async Task<(TxnResponse Response, Mvccpb.KeyValue? Previous, long Lease)> PutInTxnAsync(TxnRequest txn, string key, byte[] value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        long lease = timeToLive is { } ttl ? await GrantLeaseAsync(key, ttl, cancellationToken) : 0;
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = EtcdKeys.Key(key), Value = ByteString.CopyFrom(value), Lease = lease, PrevKv = true } });
        bool kept = false;
        try
        {
            var response = await CallAsync(o => _kv.TxnAsync(txn, o), key, cancellationToken, write: true);
            kept = response.Succeeded;
            return (response, kept ? response.Responses[0].ResponsePut.PrevKv : null, lease);
        }
        finally
        {
            if (lease != 0 && !kept)
            {
                await RevokeUnusedLeaseAsync(lease);
            }
        }
    }

    private async Task<long> GrantLeaseAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        long seconds = (long)Math.Ceiling(timeToLive.TotalSeconds);
        var response = await CallAsync(o => _lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = seconds }, o), key, cancellationToken);
        return response.ID;
    }

    private async Task RevokeUnusedLeaseAsync(long lease)
    {
        try
        {
            await SendAsync(o => _lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, o), CancellationToken.None);
        }
        catch (Exception e) when (e is RpcException or StorageException)
        {
            EtcdLog.LeaseRevokeFailed(_logger, lease, e);
        }
    }

    private static Compare Exists(ByteString key) =>
        new() { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 };

    private static Compare ModifiedAt(ByteString key, long revision) =>
        new() { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = revision };

    private static RequestOp Get(ByteString key) => new() { RequestRange = new RangeRequest { Key = key } };

    /// <summary>The key as the failure branch of a transaction read it, or null if it does not exist.</summary>
    private static KeyValue? CurrentOf(TxnResponse response) =>
        response.Responses is [{ ResponseRange.Kvs: [var kv] }] ? ToKeyValue(kv) : null;

    private static StorageException Mismatch(string key, long expectedModRevision, KeyValue? current) =>
        current is null
            ? new StorageException(StorageError.KeyNotFound, $"key '{key}' does not exist", key)
            : new StorageException(StorageError.RevisionMismatch, $"key '{key}' is at revision {current.ModRevision}, not {expectedModRevision}", key, current);

    internal static KeyValue ToKeyValue(Mvccpb.KeyValue kv) =>
        new(kv.Key.ToStringUtf8(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    private static WatchEvent ToWatchEvent(Mvccpb.Event e)
    {
        var previous = e.PrevKv is null ? null : ToKeyValue(e.PrevKv);
        return e.Type switch
        {
            Mvccpb.Event.Types.EventType.Delete => new WatchEvent(WatchEventType.Deleted, ToKeyValue(e.Kv), previous),
            _ when e.Kv.Version == 1 => new WatchEvent(WatchEventType.Created, ToKeyValue(e.Kv), null),
            _ => new WatchEvent(WatchEventType.Updated, ToKeyValue(e.Kv), previous),
        };
    }

    private static StorageException WatchCanceled(string prefix, WatchResponse response, long delivered) =>
        response.CompactRevision > 0
            ? new StorageException(StorageError.Compacted, $"watch of '{prefix}' after revision {delivered}: history before {response.CompactRevision} has been compacted", prefix, revision: response.CompactRevision)
            : new StorageException(StorageError.WatchCanceled, $"etcd canceled the watch of '{prefix}': {response.CancelReason}", prefix, revision: delivered);

    /// <summary>
    /// Sends <paramref name="request"/> if given, then reads the next response. A broken stream gives no response
    /// and the reason; cancellation by the caller throws, and the store closing throws Unavailable.
    /// </summary>
    private async Task<(WatchResponse? Response, string Failure)> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, WatchRequest? request, CancellationToken cancellationToken)
    {
        try
        {
            if (request is not null)
            {
                await call.RequestStream.WriteAsync(request, cancellationToken);
            }

            return await call.ResponseStream.MoveNext(CancellationToken.None)
                ? (call.ResponseStream.Current, "")
                : (null, "the member ended the stream");
        }
        catch (RpcException e) when (EtcdErrors.IsTransient(e))
        {
            return (null, $"{e.StatusCode}: {e.Status.Detail}");
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } && !cancellationToken.IsCancellationRequested)
        {
            // Not the caller: the store is closing, or the stream was abandoned here or cancelled by a member shutting down.
            return _closing.IsCancellationRequested ? throw Closed() : (null, e.Message);
        }
        catch (ObjectDisposedException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The abandoned stream was disposed before its request went out.
            return _closing.IsCancellationRequested ? throw Closed() : (null, e.Message);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new StorageException(StorageError.Unavailable, $"etcd refused the watch: {e.StatusCode}: {e.Status.Detail}", innerException: e);
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        try
        {
            await Task.Delay(delay, _timeProvider, stop.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Closed();
        }
    }

    private async Task<T> CallAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, string? key, CancellationToken cancellationToken, long revision = 0, bool write = false)
    {
        try
        {
            return await SendAsync(call, cancellationToken, write);
        }
        catch (RpcException e)
        {
            throw await TranslateAsync(e, key, revision, cancellationToken);
        }
    }

    /// <summary>
    /// One request, bounded by the request timeout, sent again to another member while that is safe: always when
    /// no connection could be made, and on any transient failure unless it is a <paramref name="write"/> that
    /// etcd may have applied (as clientv3, which resends only reads then). Other gRPC errors come out as they are.
    /// </summary>
    private async Task<T> SendAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken, bool write = false)
    {
        ThrowIfDisposed();
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _closing.Token);
        var delay = FirstRetryDelay;
        RpcException? lastFailure = null;
        while (true)
        {
            try
            {
                try
                {
                    using var pending = call(new CallOptions(cancellationToken: linked.Token));
                    return await pending.ResponseAsync;
                }
                catch (RpcException e) when (EtcdErrors.NeverSent(e) || (!write && EtcdErrors.IsTransient(e)))
                {
                    lastFailure = e;
                }

                await Task.Delay(delay, _timeProvider, linked.Token);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetryDelay.Ticks));
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } && !cancellationToken.IsCancellationRequested)
            {
                throw _closing.IsCancellationRequested
                    ? Closed()
                    : new StorageException(StorageError.Unavailable, $"etcd did not answer within {_options.RequestTimeout} ({lastFailure?.Status.Detail ?? "no reply"})", innerException: lastFailure ?? e);
            }
        }
    }

    private async Task<StorageException> TranslateAsync(RpcException e, string? key, long revision, CancellationToken cancellationToken)
    {
        if (EtcdErrors.IsCompacted(e))
        {
            // Below the compacted revision: the lowest readable one is above the one asked for.
            long compacted = await TryAsync(() => FindCompactedRevisionAsync(revision + 1, cancellationToken), Volatile.Read(ref _knownCompactedRevision));
            return new StorageException(StorageError.Compacted, $"revision {revision} has been compacted; history starts at {compacted}", key, revision: compacted, innerException: e);
        }

        if (EtcdErrors.IsFutureRevision(e))
        {
            long current = await TryAsync(() => GetRevisionAsync(cancellationToken), 0);
            return new StorageException(StorageError.FutureRevision, $"revision {revision} is after the current revision {current}", key, revision: current, innerException: e);
        }

        if (EtcdErrors.IsLeaseNotFound(e))
        {
            return new StorageException(StorageError.LeaseNotFound, e.Status.Detail, key, innerException: e);
        }

        if (EtcdErrors.IsLeaseExists(e))
        {
            return new StorageException(StorageError.KeyExists, e.Status.Detail, key, innerException: e);
        }

        return e.StatusCode == StatusCode.InvalidArgument
            ? new StorageException(StorageError.InvalidArgument, $"etcd refused the request: {e.Status.Detail}", key, innerException: e)
            : new StorageException(StorageError.Unavailable, $"etcd failed: {e.StatusCode}: {e.Status.Detail}", key, innerException: e);
    }

    private static async Task<long> TryAsync(Func<Task<long>> lookup, long fallback)
    {
        try
        {
            return await lookup();
        }
        catch (StorageException)
        {
            return fallback;
        }
    }

    /// <summary>
    /// The lowest revision etcd can still read (its compacted revision), knowing it is at least
    /// <paramref name="atLeast"/>: a binary search between that and the current revision, one read in the
    /// usual case where nobody else compacted. 0 when nothing was ever compacted.
    /// </summary>
    private async Task<long> FindCompactedRevisionAsync(long atLeast, CancellationToken cancellationToken)
    {
        long low = Math.Max(atLeast, Volatile.Read(ref _knownCompactedRevision));
        if (await IsReadableAsync(Math.Max(low, 1), cancellationToken))
        {
            return low;
        }

        long high = await GetRevisionAsync(cancellationToken);
        while (high - low > 1)
        {
            long middle = low + ((high - low) / 2);
            if (await IsReadableAsync(middle, cancellationToken))
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        RaiseKnownCompactedRevision(high);
        return high;
    }

    private async Task<bool> IsReadableAsync(long revision, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(o => _kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFrom(0), Revision = revision, CountOnly = true }, o), cancellationToken);
            return true;
        }
        catch (RpcException e) when (EtcdErrors.IsCompacted(e))
        {
            return false;
        }
        catch (RpcException e)
        {
            throw await TranslateAsync(e, null, revision, cancellationToken);
        }
    }

    private void RaiseKnownCompactedRevision(long revision)
    {
        long known = Volatile.Read(ref _knownCompactedRevision);
        while (revision > known)
        {
            long seen = Interlocked.CompareExchange(ref _knownCompactedRevision, revision, known);
            if (seen == known)
            {
                return;
            }

            known = seen;
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            throw Closed();
        }
    }

    private static StorageException Closed() => new(StorageError.Unavailable, "the etcd store has been disposed");

    /// <summary>
    /// Asks etcd for the progress of a watch stream (a WatchProgressRequest, as client-go's RequestProgress) after each
    /// interval in which no event came: a busy watch learns its progress from its events.
    /// </summary>
    private sealed class ProgressRequests(IClientStreamWriter<WatchRequest> requests, TimeSpan interval, TimeProvider time) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _running = Task.CompletedTask;
        private long _heard;

        public bool Enabled => interval != Timeout.InfiniteTimeSpan;

        /// <summary>Counts an event: the watch was not quiet.</summary>
        public void Heard() => Interlocked.Increment(ref _heard);

        /// <summary>Starts asking, once the watch is created (the create request was the stream's last write).</summary>
        public void Start()
        {
            if (Enabled && _running.IsCompleted)
            {
                _running = AskAsync(_stop.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            _stop.Dispose();
        }

        private async Task AskAsync(CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(interval, time);
            long heardBefore = Interlocked.Read(ref _heard);
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    long heard = Interlocked.Read(ref _heard);
                    if (heard == heardBefore)
                    {
                        await requests.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellationToken);
                    }

                    heardBefore = heard;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException or ObjectDisposedException)
            {
                // The watch ended or its stream broke; the watch opens a new stream with its own requests.
            }
        }
    }
}
