using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Security;
using Switchboard.Kube.Hosting;
using Switchboard.Node.Server;
using Switchboard.Controllers;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Fixtures;

/// <summary>
/// A real API server, the controllers and a real node agent in this process, its namespaces under a per-fixture
/// cluster prefix; disposing stops the node and removes every namespace, process and file it made, even after a failure.
/// </summary>
public sealed class NodeFixture : IAsyncLifetime
{
    private readonly InProcessApiServer _server = new();
    private ComponentTestHost? _controllers;
    private ComponentTestHost? _node;

    public InProcessApiServer Server => _server;

    public IKubernetes Client => _server.Client;

    public NodeOptions Options { get; private set; } = null!;

    /// <summary>The cluster prefix of this fixture's namespaces (tests list what exists with it).</summary>
    public string NamespacePrefix => $"sb-{Options.ClusterName}-";

    /// <summary>The "host" resolv.conf the node reads for dnsPolicy Default and the search line ClusterFirst appends.</summary>
    public string HostResolvConf => Path.Combine(_server.DataDirectory, "host-resolv.conf");

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "switchboard.dll");

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _controllers = await ComponentTestHost.StartAsync(services => services.AddKubeClient(_server.KubeconfigPath).AddControllers(new ControllerOptions { Workers = 2 }));
        await _controllers.Get<ControllerManager>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var (certificate, key, clientCa) = KubeletCertificates.EnsureServing(
            _server.DataDirectory, Path.Combine(_server.DataDirectory, "kubelet-pki"), "node-1", [IPAddress.Loopback], TimeProvider.System);
        Options = new NodeOptions
        {
            NodeName = "node-1",
            ClusterName = "t" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6],
            StateDirectory = Path.Combine(_server.DataDirectory, "node"),
            SelfCommand = ["dotnet", Executable],
            StatusUpdateFrequency = TimeSpan.FromSeconds(2),
            HostResolvConf = HostResolvConf,
            Server = new KubeletServerOptions { Address = IPAddress.Loopback, Port = 0, CertificateFile = certificate, KeyFile = key, ClientCaFile = clientCa },
        };
        await File.WriteAllTextAsync(HostResolvConf, "nameserver 192.0.2.53\nsearch example.org\noptions timeout:2\n");
        await StartNodeAsync();
    }

    /// <summary>Starts the node agent and waits until it is ready.</summary>
    public async Task StartNodeAsync()
    {
        _node = await ComponentTestHost.StartAsync(services => services.AddKubeClient(_server.KubeconfigPath).AddNode(Options));
        await _node.Get<NodeAgent>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Stops the agent as a restart would: its pods keep running.</summary>
    public async Task StopNodeAsync()
    {
        if (_node is null)
        {
            return;
        }

        await _node.DisposeAsync();
        _node = null;
    }

    public async Task DisposeAsync()
    {
        await StopNodeAsync();
        if (Options is not null)
        {
            await NodeTeardown.RunAsync(Options);
        }

        if (_controllers is not null)
        {
            await _controllers.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    /// <summary>Runs <c>switchboard exec</c> in the pod's first container; returns exit code and output.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string ns, string pod, params string[] command) =>
        ExecInAsync(ns, pod, null, command);

    /// <summary>Runs <c>switchboard exec -c <paramref name="container"/></c> in the pod (its first container when null).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> ExecInAsync(string ns, string pod, string? container, params string[] command)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] select = container is null ? [] : ["-c", container];
        foreach (string arg in (string[])[Executable, "exec", "--kubeconfig", _server.KubeconfigPath, "-n", ns, .. select, pod, "--", .. command])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The network namespaces of this fixture's cluster.</summary>
    public IReadOnlyList<string> Namespaces() =>
        [.. (Directory.Exists("/run/netns") ? Directory.EnumerateFiles("/run/netns") : []).Select(Path.GetFileName).OfType<string>().Where(n => n.StartsWith(NamespacePrefix, StringComparison.Ordinal))];

    public async Task CreateNamespaceAsync(string name) =>
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });

    /// <summary>Creates namespace <paramref name="name"/> unless an earlier test class of the collection did.</summary>
    public async Task EnsureNamespaceAsync(string name)
    {
        if (!(await Client.CoreV1.ListNamespaceAsync()).Items.Any(n => n.Metadata.Name == name))
        {
            await CreateNamespaceAsync(name);
        }
    }

    /// <summary>Creates <paramref name="pod"/> in <paramref name="ns"/> and waits until it runs and is Ready (when <paramref name="ready"/>).</summary>
    public async Task<V1Pod> RunPodAsync(string ns, V1Pod pod, bool ready = true)
    {
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
        return await WaitForPodAsync(ns, pod.Metadata.Name,
            p => p.Status?.Phase == "Running" && (!ready || p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true),
            ready ? "Running and Ready" : "Running");
    }

    /// <summary>A pod of one container running <paramref name="command"/> with the debian image on this node's scheduler.</summary>
    public static V1Pod ShellPod(string name, params string[] command) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec
        {
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = "debian:12", Command = command }],
        },
    };

    public async Task<V1Pod> WaitForPodAsync(string ns, string name, Func<V1Pod, bool> condition, string what, TimeSpan? timeout = null)
    {
        V1Pod? pod = null;
        await Eventually.WaitAsync(async () =>
        {
            pod = await Client.CoreV1.ReadNamespacedPodAsync(name, ns);
            return condition(pod);
        }, $"{ns}/{name}: {what}", timeout ?? TimeSpan.FromSeconds(60));
        return pod!;
    }
}
