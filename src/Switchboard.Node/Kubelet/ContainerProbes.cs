using System.Net;
using k8s.Models;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// The startup, readiness and liveness probes of one container instance, each on its own schedule with kubelet's
/// defaults (initialDelay 0, period 10 s, timeout 1 s, success 1, failure 3). Startup gates the other two. Results
/// land in the <see cref="ContainerState"/>; a change asks for a pod sync. A readiness retry first asks the given
/// <see cref="ListeningPorts"/>, which is disposed once the retries are over.
/// </summary>
internal sealed class ContainerProbes : IDisposable
{
    private static readonly TimeSpan FirstReadinessRetry = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxReadinessRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LateReadinessRetry = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stop = new();

    public ContainerProbes(ProbeRunner runner, V1Container container, ContainerState state, string podIp, ExecTarget target, ListeningPorts listening, TimeProvider time,
        Action changed, Action<string, string> unhealthy)
    {
        var podAddress = IPAddress.Parse(podIp);
        async Task Loop(string kind, V1Probe probe, Action<bool> onResult)
        {
            var token = _stop.Token;
            await Task.Delay(TimeSpan.FromSeconds(probe.InitialDelaySeconds ?? 0), time, token);
            int successes = 0;
            int failures = 0;
            var period = TimeSpan.FromSeconds(Math.Max(1, probe.PeriodSeconds ?? 10));

            // Kubelet runs a not-ready container's readiness probe again on every pod sync (the prober manager's
            // manual trigger), so a server that listens a moment after its start is Ready then, not a period later.
            // Here, until the first success, a readiness miss is tried again after 20 ms, doubling to 100 ms in the first
            // period (a miss is one refused connection; a slower pace delayed Ready by up to its step, which for a
            // server that starts in about a second, as the echo image under load, was most of a second) and to 1 s in
            // later ones (a server slower than a period to start, as fifty echo pods at once on a busy machine, is
            // Ready then, not a whole period later). A miss followed by a retry is no failure (no Unhealthy, no count
            // towards the failure threshold): each period without a success counts one, as kubelet's periodic probe.
            var retry = kind == "Readiness" ? FirstReadinessRetry : TimeSpan.Zero;
            var retryCap = MaxReadinessRetry;
            while (!token.IsCancellationRequested)
            {
                bool gated = kind != "Startup" && container.StartupProbe is not null && !state.Started;
                var tick = time.GetUtcNow();
                if (!gated)
                {
                    // Until the first success, a dial certain to be refused is not made: a refusal costs the dialer an
                    // exception or two, and fifty pods starting at once make hundreds.
                    var (ok, output) = retry > TimeSpan.Zero && Refused(probe) ? (false, ProbeRunner.RefusedOutput(probe, container, podIp)) : await Attempt(probe, token);
                    for (; !ok && retry > TimeSpan.Zero && time.GetUtcNow() - tick + retry < period; retry = Min(retry * 2, retryCap))
                    {
                        await Task.Delay(retry, time, token);
                        if (Refused(probe))
                        {
                            // Nothing listens yet: the dial would be refused, as the last one was (its output stands).
                            continue;
                        }

                        (ok, output) = await Attempt(probe, token);
                    }

                    if (ok && retry > TimeSpan.Zero)
                    {
                        // Ready once: later misses wait for the next period, never retried, so nothing asks again.
                        listening.Dispose();
                    }

                    retry = ok ? TimeSpan.Zero : retry;
                    retryCap = LateReadinessRetry;
                    if (ok)
                    {
                        failures = 0;
                        if (++successes >= Math.Max(1, probe.SuccessThreshold ?? 1))
                        {
                            onResult(true);
                        }
                    }
                    else
                    {
                        successes = 0;
                        unhealthy(kind, output);
                        if (++failures >= Math.Max(1, probe.FailureThreshold ?? 3))
                        {
                            onResult(false);
                            failures = kind == "Readiness" ? failures : 0;
                        }
                    }

                    if (kind == "Startup" && state.Started)
                    {
                        return;
                    }
                }

                var elapsed = time.GetUtcNow() - tick;
                await Task.Delay(elapsed < period ? period - elapsed : TimeSpan.Zero, time, token);
            }
        }

        // A retry's dial to the pod's own address is certain to be refused while no socket listens on its port there.
        bool Refused(V1Probe probe)
        {
            var (port, host) = probe.HttpGet is { } http ? (http.Port, http.Host) : probe.TcpSocket is { } tcp ? (tcp.Port, tcp.Host) : (null, null);
            if (port is null || !string.IsNullOrEmpty(host) || ProbeRunner.PortOf(port, container) is not { } number)
            {
                return false;
            }

            return !listening.Any(podAddress, number);
        }

        async Task<(bool, string)> Attempt(V1Probe probe, CancellationToken token)
        {
            try
            {
                return await runner.RunAsync(probe, container, podIp, target, token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return (false, e.Message);
            }
        }

        async Task Run(string kind, V1Probe? probe, Action<bool> onResult)
        {
            if (probe is null)
            {
                return;
            }

            try
            {
                await Loop(kind, probe, onResult);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            finally
            {
                if (kind == "Readiness")
                {
                    listening.Dispose();
                }
            }
        }

        void Set(Func<bool> get, Action<bool> set, bool value)
        {
            if (!_stop.IsCancellationRequested && get() != value)
            {
                set(value);
                changed();
            }
        }

        void Kill(string message)
        {
            if (!_stop.IsCancellationRequested && state.KillRequested is null)
            {
                state.KillRequested = message;
                changed();
            }
        }

        Task = Task.WhenAll(
            Run("Startup", container.StartupProbe, ok =>
            {
                if (ok)
                {
                    Set(() => state.Started, v => state.Started = v, true);
                }
                else
                {
                    Kill($"Container {container.Name} failed startup probe, will be restarted");
                }
            }),
            Run("Readiness", container.ReadinessProbe, ok => Set(() => state.Ready, v => state.Ready = v, ok)),
            Run("Liveness", container.LivenessProbe, ok =>
            {
                if (!ok)
                {
                    Kill($"Container {container.Name} failed liveness probe, will be restarted");
                }
            }));
    }

    public Task Task { get; }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Stops probing (the loops may still be finishing an attempt; their results are then ignored).</summary>
    public void Dispose() => _stop.Cancel();
}
