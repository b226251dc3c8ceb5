using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Node.Volumes;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Volumes;

/// <summary>
/// The node's token manager against a real API server's TokenRequest, its clock driven by hand: a projected token is
/// kept until 80 % of its lifetime (or 24 h) has passed, then asked for again; a failed refresh keeps the token while
/// it is valid; a pod's tokens go with it. The schedule itself, jitter included, as kubelet's requiresRefresh.
/// </summary>
public sealed class TokenManagerTests : IAsyncLifetime
{
    private const string Ns = "default";
    private readonly InProcessApiServer _server = new();
    private V1Pod _pod = null!;
    private int _requests;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        await _server.Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "runner" } }, Ns);
        _pod = await _server.Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "app" },
            Spec = new V1PodSpec { ServiceAccountName = "runner", Containers = [new V1Container { Name = "main", Image = "busybox" }] },
        }, Ns);
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public void A_token_is_due_once_80_percent_of_its_lifetime_has_passed_or_up_to_10_seconds_earlier_by_jitter()
    {
        var issued = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var token = Token(issued, TimeSpan.FromSeconds(3600));

        Assert.False(TokenManager.RequiresRefresh(token, issued.AddSeconds(2879), jitter: 0));
        Assert.True(TokenManager.RequiresRefresh(token, issued.AddSeconds(2880), jitter: 0));
        Assert.False(TokenManager.RequiresRefresh(token, issued.AddSeconds(2870), jitter: 0.99));
        Assert.True(TokenManager.RequiresRefresh(token, issued.AddSeconds(2871), jitter: 0.99));

        // A week-long token is replaced after a day, not after 80 % of the week.
        var week = Token(issued, TimeSpan.FromDays(7));
        Assert.False(TokenManager.RequiresRefresh(week, issued.AddHours(24).AddSeconds(-1), jitter: 0));
        Assert.True(TokenManager.RequiresRefresh(week, issued.AddHours(24), jitter: 0));
    }

    [Fact]
    public async Task The_pods_token_is_kept_until_due_then_asked_for_again_and_dropped_with_the_pod()
    {
        var start = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(start);
        var manager = Manager(clock);
        var projection = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = 3607 };

        string first = await manager.GetAsync(_pod, projection, CancellationToken.None);
        Assert.Equal(1, _requests);
        double requestSeconds = (DateTimeOffset.UtcNow - start).TotalSeconds;

        // 3607 s less 20 % (721 s) after the server issued it: the server's clock, in whole seconds, is at most one behind
        // ours, and it issued the token up to the request's duration after the fake clock started (a loaded CI machine
        // took 0.4 s).
        var due = manager.UntilDue(_pod.Metadata.Uid)!.Value;
        Assert.InRange(due.TotalSeconds, 2884, 2886 + requestSeconds);

        clock.Advance(due - TokenManager.MaxJitter - TimeSpan.FromSeconds(1));
        Assert.Equal(first, await manager.GetAsync(_pod, projection, CancellationToken.None));
        Assert.Equal(1, _requests);

        clock.Advance(TokenManager.MaxJitter + TimeSpan.FromSeconds(2));
        string second = await manager.GetAsync(_pod, projection, CancellationToken.None);
        Assert.Equal(2, _requests);
        Assert.NotEqual(first, second);

        manager.Forget(_pod.Metadata.Uid);
        Assert.Null(manager.UntilDue(_pod.Metadata.Uid));
    }

    [Fact]
    public async Task A_refresh_refused_keeps_the_token_while_it_is_valid_and_fails_after()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var manager = Manager(clock);
        var projection = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = 600 };
        string held = await manager.GetAsync(_pod, projection, CancellationToken.None);

        // The bound pod is gone: TokenRequest answers 404 from now on.
        await _server.Client.CoreV1.DeleteNamespacedPodAsync(_pod.Metadata.Name, Ns, new V1DeleteOptions { GracePeriodSeconds = 0 });
        clock.Advance(TimeSpan.FromSeconds(590));
        Assert.Equal(held, await manager.GetAsync(_pod, projection, CancellationToken.None));
        Assert.Equal(2, _requests);

        clock.Advance(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAsync<HttpOperationException>(() => manager.GetAsync(_pod, projection, CancellationToken.None));
    }

    private TokenManager Manager(TimeProvider clock)
    {
        var request = TokenManager.Through(_server.Client);
        return new TokenManager(
            (ns, account, body, cancellationToken) =>
            {
                Interlocked.Increment(ref _requests);
                return request(ns, account, body, cancellationToken);
            },
            clock,
            new Random(17));
    }

    private static Authenticationv1TokenRequest Token(DateTimeOffset issued, TimeSpan lifetime) => new()
    {
        Spec = new V1TokenRequestSpec { ExpirationSeconds = (long)lifetime.TotalSeconds, Audiences = [] },
        Status = new V1TokenRequestStatus { Token = "t", ExpirationTimestamp = (issued + lifetime).UtcDateTime },
    };
}
