using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Switchboard.Kube.Client;

namespace Switchboard.DnsBench;

/// <summary>
/// Creates services through the API server, several at a time; each worker asks the DNS server for its new
/// service every millisecond until it answers, which times "created → answered" (DNS programming latency as a
/// client sees it). Then writes the dnsperf query file (70% existing names, 30% NXDOMAIN) and unbound's
/// local-data for the same names.
/// </summary>
internal static class Populate
{
    private const string Namespace = "bench";
    private const int Workers = 8;
    private const int Queries = 100_000;

    public static async Task RunAsync(string kubeconfig, IPEndPoint dns, int count, string outDir, TextWriter report)
    {
        using IKubernetes client = KubeClients.FromKubeconfig(kubeconfig);
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        string[] ips = new string[count];
        double[] fromCreated = new double[count];
        double[] fromRequest = new double[count];
        int next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(dns);
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                long requested = Stopwatch.GetTimestamp();
                V1Service created = await client.CoreV1.CreateNamespacedServiceAsync(
                    new V1Service { Metadata = new V1ObjectMeta { Name = Name(i) }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } },
                    Namespace);
                long returned = Stopwatch.GetTimestamp();
                ips[i] = created.Spec.ClusterIP;
                while (!await AnsweredAsync(socket, $"{Name(i)}.{Namespace}.svc.cluster.local", (ushort)i))
                {
                    await Task.Delay(1);
                }

                fromCreated[i] = Stopwatch.GetElapsedTime(returned).TotalMilliseconds;
                fromRequest[i] = Stopwatch.GetElapsedTime(requested).TotalMilliseconds;
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;

        Array.Sort(fromCreated);
        Array.Sort(fromRequest);
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"services_created={count} in {seconds:F1} s ({count / seconds:F0}/s, {Workers} at a time)"));
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"programming_latency_created_to_answered_ms p50={Percentile(fromCreated, 0.50):F2} p99={Percentile(fromCreated, 0.99):F2} max={fromCreated[^1]:F2}"));
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"programming_latency_request_to_answered_ms p50={Percentile(fromRequest, 0.50):F2} p99={Percentile(fromRequest, 0.99):F2} max={fromRequest[^1]:F2}"));

        var random = new Random(42);
        var queries = new StringBuilder();
        for (int q = 0; q < Queries; q++)
        {
            string name = random.NextDouble() < 0.7 ? Name(random.Next(count)) : $"nx-{random.Next(1_000_000):D6}";
            queries.Append(CultureInfo.InvariantCulture, $"{name}.{Namespace}.svc.cluster.local A\n");
        }

        await File.WriteAllTextAsync(Path.Combine(outDir, "queries.txt"), queries.ToString());
        var local = new StringBuilder("server:\n  local-zone: \"cluster.local.\" static\n");
        for (int i = 0; i < count; i++)
        {
            local.Append(CultureInfo.InvariantCulture, $"  local-data: \"{Name(i)}.{Namespace}.svc.cluster.local. 30 IN A {ips[i]}\"\n");
        }

        await File.WriteAllTextAsync(Path.Combine(outDir, "unbound-local.conf"), local.ToString());
    }

    private static string Name(int i) => $"svc-{i:D5}";

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>One A query; true when the answer section is not empty.</summary>
    private static async Task<bool> AnsweredAsync(Socket socket, string name, ushort id)
    {
        byte[] query = new byte[512];
        BinaryPrimitives.WriteUInt16BigEndian(query, id);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(2), 0x0100);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(4), 1);
        int position = 12;
        foreach (string label in name.Split('.'))
        {
            query[position++] = (byte)label.Length;
            position += Encoding.ASCII.GetBytes(label, query.AsSpan(position));
        }

        query[position++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(position), 1);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(position + 2), 1);
        await socket.SendAsync(query.AsMemory(0, position + 4), SocketFlags.None);
        byte[] response = new byte[1232];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        while (true)
        {
            int length = await socket.ReceiveAsync(response, SocketFlags.None, timeout.Token);
            if (length >= 12 && BinaryPrimitives.ReadUInt16BigEndian(response) == id)
            {
                return BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(6)) > 0;
            }
        }
    }
}
