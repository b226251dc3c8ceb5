using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace Switchboard.Node.Volumes;

/// <summary>
/// Kubelet's token manager: the tokens of projected <c>serviceAccountToken</c> sources, asked of TokenRequest as the
/// node, bound to their pod, and kept per pod, account, audience and lifetime until they need a refresh (past 80 % of
/// their lifetime, or 24 h old, less up to 10 s of jitter, as kubelet). A refresh that fails keeps the token it had
/// while that is still valid. A pod's tokens go with it (<see cref="Forget"/>).
/// </summary>
internal sealed class TokenManager(TokenManager.Request request, TimeProvider time, Random random)
{
    /// <summary>How a token is asked for: <c>serviceaccounts/NAME/token</c> in the namespace.</summary>
    public delegate Task<Authenticationv1TokenRequest> Request(string ns, string account, Authenticationv1TokenRequest body, CancellationToken cancellationToken);

    /// <summary>The oldest a token gets before it is replaced, whatever its lifetime (kubelet's maxTTL).</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    /// <summary>Up to this much earlier than due, so the pods of a node do not all refresh at once (kubelet's maxJitter).</summary>
    internal static readonly TimeSpan MaxJitter = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Authenticationv1TokenRequest> _tokens = new(StringComparer.Ordinal);

    /// <summary>A node's TokenRequest through <paramref name="client"/>.</summary>
    public static Request Through(IKubernetes client) =>
        (ns, account, body, cancellationToken) => client.CoreV1.CreateNamespacedServiceAccountTokenAsync(body, account, ns, cancellationToken: cancellationToken);

    /// <summary>The token for <paramref name="projection"/> of <paramref name="pod"/>: the one held, or a new one when it is due.</summary>
    public async Task<string> GetAsync(V1Pod pod, V1ServiceAccountTokenProjection projection, CancellationToken cancellationToken)
    {
        string ns = pod.Metadata.NamespaceProperty;
        string account = string.IsNullOrEmpty(pod.Spec.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName;
        long seconds = projection.ExpirationSeconds ?? 3600;
        string key = string.Join('/', pod.Metadata.Uid, ns, account, projection.Audience ?? "", seconds);
        var held = _tokens.GetValueOrDefault(key);
        if (held is not null && !RequiresRefresh(held, time.GetUtcNow(), random.NextDouble()))
        {
            return held.Status.Token;
        }

        var body = new Authenticationv1TokenRequest
        {
            Spec = new V1TokenRequestSpec
            {
                Audiences = string.IsNullOrEmpty(projection.Audience) ? [] : [projection.Audience],
                ExpirationSeconds = seconds,
                BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
            },
        };
        try
        {
            var issued = await request(ns, account, body, cancellationToken);
            _tokens[key] = issued;
            return issued.Status.Token;
        }
        catch (Exception e) when (e is not OperationCanceledException && held is not null && time.GetUtcNow() < Expiry(held))
        {
            return held.Status.Token;
        }
    }

    /// <summary>How long until the first token held for <paramref name="podUid"/> is due (null: none held), for the pod's next sync.</summary>
    public TimeSpan? UntilDue(string podUid)
    {
        var now = time.GetUtcNow();
        TimeSpan? soonest = null;
        foreach (var (key, token) in _tokens)
        {
            if (key.StartsWith(podUid + "/", StringComparison.Ordinal) && token.Spec?.ExpirationSeconds is not null && token.Status?.ExpirationTimestamp is not null)
            {
                var wait = DueAt(token, 0) - now;
                soonest = soonest is null || wait < soonest ? wait : soonest;
            }
        }

        return soonest is { } due && due < TimeSpan.Zero ? TimeSpan.Zero : soonest;
    }

    /// <summary>Drops the tokens of a pod that is gone.</summary>
    public void Forget(string podUid)
    {
        foreach (string key in _tokens.Keys.Where(k => k.StartsWith(podUid + "/", StringComparison.Ordinal)))
        {
            _tokens.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// Whether <paramref name="token"/> is due at <paramref name="now"/>: kubelet's requiresRefresh, with
    /// <paramref name="jitter"/> in [0, 1) of <see cref="MaxJitter"/> taken off the time it is due.
    /// </summary>
    internal static bool RequiresRefresh(Authenticationv1TokenRequest token, DateTimeOffset now, double jitter) =>
        token.Spec?.ExpirationSeconds is not null && token.Status?.ExpirationTimestamp is not null && now >= DueAt(token, jitter);

    /// <summary>When a token is due: 24 h after it was issued, or once 80 % of its lifetime has passed, whichever is first.</summary>
    internal static DateTimeOffset DueAt(Authenticationv1TokenRequest token, double jitter)
    {
        var expiry = Expiry(token);
        long seconds = token.Spec.ExpirationSeconds ?? 0;
        var issued = expiry.AddSeconds(-seconds);
        var early = TimeSpan.FromSeconds(Math.Floor(jitter * MaxJitter.TotalSeconds));
        var byAge = issued + MaxAge - early;
        var byLifetime = expiry.AddSeconds(-(seconds * 20 / 100)) - early;
        return byAge < byLifetime ? byAge : byLifetime;
    }

    private static DateTimeOffset Expiry(Authenticationv1TokenRequest token) =>
        token.Status?.ExpirationTimestamp is { } expiry ? new DateTimeOffset(DateTime.SpecifyKind(expiry, DateTimeKind.Utc)) : DateTimeOffset.MinValue;
}
