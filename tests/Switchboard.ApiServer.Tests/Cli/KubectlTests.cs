using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Cli;

/// <summary>The real kubectl against the server; run once per store by the subclasses.</summary>
public abstract class KubectlTests<TServer> : IClassFixture<TServer>
    where TServer : ApiServerFixture
{
    private readonly TServer _server;

    protected KubectlTests(TServer server) => _server = server;

    private Kubectl Kubectl => _server.Kubectl;

    [Fact]
    public async Task Backend_example_creates_and_reads_back_as_on_a_real_cluster()
    {
        await EnsureBackendAsync();

        string table = await Kubectl.OutputAsync("get", "svc", "backend", "-n", "critical-app");
        string[] header = table.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], header);
        Assert.Matches(@"backend\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80/TCP", table);

        string wide = await Kubectl.OutputAsync("get", "deploy", "-n", "critical-app", "-o", "wide");
        Assert.Matches(@"backend\s+0/3\s+0\s+0\s+\S+\s+nginx\s+nginx\s+app=critical-app,role=backend", wide);

        string ip = await Kubectl.OutputAsync("get", "svc", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        Assert.True(IPAddress.TryParse(ip, out var address) && address.ToString().StartsWith("10.96.", StringComparison.Ordinal), ip);

        string yaml = await Kubectl.OutputAsync("get", "svc", "backend", "-n", "critical-app", "-o", "yaml");
        Assert.Contains("sessionAffinity: None", yaml, StringComparison.Ordinal);
        Assert.Contains("targetPort: 80", yaml, StringComparison.Ordinal);
        Assert.Contains("uid: ", yaml, StringComparison.Ordinal);

        string json = await Kubectl.OutputAsync("get", "deploy", "backend", "-n", "critical-app", "-o", "json");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(1, doc.RootElement.GetProperty("metadata").GetProperty("generation").GetInt32());
        Assert.Equal("RollingUpdate", doc.RootElement.GetProperty("spec").GetProperty("strategy").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Describe_service_prints_the_fields_users_look_for()
    {
        await EnsureBackendAsync();

        string text = await Kubectl.OutputAsync("describe", "service", "backend", "-n", "critical-app");

        Assert.Matches(@"Name:\s+backend", text);
        Assert.Matches(@"Namespace:\s+critical-app", text);
        Assert.Matches(@"Selector:\s+app=critical-app,role=backend", text);
        Assert.Matches(@"Type:\s+ClusterIP", text);
        Assert.Matches(@"IP:\s+10\.96\.", text);
        Assert.Matches(@"Port:\s+<unset>\s+80/TCP", text);
        Assert.Matches(@"TargetPort:\s+80/TCP", text);
        Assert.Matches(@"Session Affinity:\s+None", text);
        Assert.Matches(@"Events:\s+<none>", text);
    }

    [Fact]
    public async Task Errors_read_as_kubectl_prints_them_for_404_409_and_422()
    {
        await EnsureBackendAsync();

        var (code, _, stderr) = await Kubectl.RunAsync("get", "svc", "nosuch", "-n", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("Error from server (NotFound): services \"nosuch\" not found", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Kubectl.RunAsync("create", "namespace", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("Error from server (AlreadyExists): namespaces \"critical-app\" already exists", stderr, StringComparison.Ordinal);

        string bad = Path.Combine(_server.DataDirectory, "bad-service.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\nspec:\n  ports:\n  - port: 70000\n");
        (code, _, stderr) = await Kubectl.RunAsync("create", "-f", bad, "-n", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("The Service \"Bad_Name\" is invalid", stderr, StringComparison.Ordinal);
        Assert.Contains("metadata.name: Invalid value: \"Bad_Name\"", stderr, StringComparison.Ordinal);
        Assert.Contains("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_without_the_admin_token_get_401()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { BaseAddress = _server.Host.Url };

        using var anonymous = await client.GetAsync(new Uri("/api/v1/namespaces", UriKind.Relative));
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        using var wrong = await client.GetAsync(new Uri("/api/v1/namespaces", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var status = JsonDocument.Parse(await wrong.Content.ReadAsStringAsync());
        Assert.Equal("Unauthorized", status.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Apply_twice_says_unchanged_then_label_annotate_scale_and_each_patch_type_land()
    {
        const string ns = "apply-test";
        await Kubectl.OutputAsync("create", "namespace", ns);
        string backend = SharedFiles.Example("backend.yaml");

        string first = await Kubectl.OutputAsync("apply", "-f", backend, "-n", ns);
        string second = await Kubectl.OutputAsync("apply", "-f", backend, "-n", ns);

        Assert.Contains("service/backend created", first, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend created", first, StringComparison.Ordinal);
        Assert.Contains("service/backend unchanged", second, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend unchanged", second, StringComparison.Ordinal);

        Assert.Contains("service/backend labeled", await Kubectl.OutputAsync("label", "svc", "backend", "-n", ns, "tier=web"), StringComparison.Ordinal);
        Assert.Contains("service/backend annotated", await Kubectl.OutputAsync("annotate", "svc", "backend", "-n", ns, "owner=team-a"), StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend scaled", await Kubectl.OutputAsync("scale", "deploy", "backend", "-n", ns, "--replicas=5"), StringComparison.Ordinal);

        // Strategic merge: the container list merges by name, so the ports survive an image change.
        await Kubectl.OutputAsync("patch", "deploy", "backend", "-n", ns, "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}""");
        await Kubectl.OutputAsync("patch", "svc", "backend", "-n", ns, "--type=merge", "-p", """{"metadata":{"labels":{"merged":"yes"}}}""");
        await Kubectl.OutputAsync("patch", "svc", "backend", "-n", ns, "--type=json", "-p", """[{"op":"replace","path":"/spec/ports/0/targetPort","value":8080}]""");

        using var svc = JsonDocument.Parse(await Kubectl.OutputAsync("get", "svc", "backend", "-n", ns, "-o", "json"));
        var labels = svc.RootElement.GetProperty("metadata").GetProperty("labels");
        Assert.Equal("web", labels.GetProperty("tier").GetString());
        Assert.Equal("yes", labels.GetProperty("merged").GetString());
        Assert.Equal("team-a", svc.RootElement.GetProperty("metadata").GetProperty("annotations").GetProperty("owner").GetString());
        Assert.Equal(8080, svc.RootElement.GetProperty("spec").GetProperty("ports")[0].GetProperty("targetPort").GetInt32());

        using var deploy = JsonDocument.Parse(await Kubectl.OutputAsync("get", "deploy", "backend", "-n", ns, "-o", "json"));
        Assert.Equal(5, deploy.RootElement.GetProperty("spec").GetProperty("replicas").GetInt32());
        var container = deploy.RootElement.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers")[0];
        Assert.Equal("nginx:1.27", container.GetProperty("image").GetString());
        Assert.Equal(80, container.GetProperty("ports")[0].GetProperty("containerPort").GetInt32());

        // A third apply after the out-of-band changes restores what the file says (replicas 3) and keeps the label.
        Assert.Contains("deployment.apps/backend configured", await Kubectl.OutputAsync("apply", "-f", backend, "-n", ns), StringComparison.Ordinal);
        Assert.Equal("3", await Kubectl.OutputAsync("get", "deploy", "backend", "-n", ns, "-o", "jsonpath={.spec.replicas}"));
        Assert.Equal("web", await Kubectl.OutputAsync("get", "svc", "backend", "-n", ns, "-o", "jsonpath={.metadata.labels.tier}"));
    }

    [Fact]
    public async Task Get_all_lists_the_namespace_and_get_A_adds_the_namespace_column()
    {
        await EnsureBackendAsync();

        string all = await Kubectl.OutputAsync("get", "all", "-n", "critical-app");
        string everywhere = await Kubectl.OutputAsync("get", "svc", "-A");

        Assert.Matches(@"service/backend\s+ClusterIP\s+10\.96\.", all);
        Assert.Matches(@"deployment\.apps/backend\s+\d+/\d+", all);
        Assert.Equal(["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], everywhere.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"(?m)^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP", everywhere);
        Assert.Matches(@"(?m)^critical-app\s+backend\s+ClusterIP", everywhere);
    }

    [Fact]
    public async Task Get_w_sees_added_modified_and_deleted_while_delete_waits_for_the_deletion()
    {
        const string ns = "watch-test";
        await Kubectl.OutputAsync("create", "namespace", ns);
        await Kubectl.OutputAsync("create", "-f", ServiceFile("first", 80), "-n", ns);
        using var watch = _server.StartKubectl("get", "svc", "-n", ns, "-w", "--output-watch-events");
        await watch.WaitForLineAsync(l => l.StartsWith("ADDED", StringComparison.Ordinal) && l.Contains("first", StringComparison.Ordinal), "the initial ADDED for first");

        await Kubectl.OutputAsync("create", "-f", ServiceFile("second", 81), "-n", ns);
        await watch.WaitForLineAsync(l => Regex.IsMatch(l, @"^ADDED\s+second\s+ClusterIP\s+10\.96\.\S+\s+<none>\s+81/TCP"), "ADDED second");
        await Kubectl.OutputAsync("label", "svc", "second", "-n", ns, "touched=yes");
        await watch.WaitForLineAsync(l => Regex.IsMatch(l, @"^MODIFIED\s+second\s"), "MODIFIED second");

        string deleted = await Kubectl.OutputAsync("delete", "svc", "second", "-n", ns);
        Assert.Contains("service \"second\" deleted", deleted, StringComparison.Ordinal);
        await watch.WaitForLineAsync(l => Regex.IsMatch(l, @"^DELETED\s+second\s"), "DELETED second");

        // delete returned only once the object was gone: nothing is left to get.
        var (code, _, stderr) = await Kubectl.RunAsync("get", "svc", "second", "-n", ns);
        Assert.NotEqual(0, code);
        Assert.Contains("NotFound", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_subcommands_whose_bodies_kubectl_sends_as_protobuf_create_what_they_say()
    {
        const string ns = "typed";
        await Kubectl.OutputAsync("create", "namespace", ns);

        Assert.Contains("deployment.apps/web created", await Kubectl.OutputAsync("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=8080", "-n", ns), StringComparison.Ordinal);
        Assert.Contains("service/web created", await Kubectl.OutputAsync("create", "service", "clusterip", "web", "--tcp=80:8080", "-n", ns), StringComparison.Ordinal);
        Assert.Contains("service/np created", await Kubectl.OutputAsync("create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080", "-n", ns), StringComparison.Ordinal);
        Assert.Contains("configmap/settings created", await Kubectl.OutputAsync("create", "configmap", "settings", "--from-literal=mode=fast", "-n", ns), StringComparison.Ordinal);

        Assert.Matches(@"web\s+ClusterIP\s+10\.96\.\S+\s+<none>\s+80/TCP", await Kubectl.OutputAsync("get", "svc", "web", "-n", ns));
        Assert.Matches(@"np\s+NodePort\s+10\.96\.\S+\s+<none>\s+80:30080/TCP", await Kubectl.OutputAsync("get", "svc", "np", "-n", ns));
        Assert.Equal("8080 app=web", await Kubectl.OutputAsync("get", "svc", "web", "-n", ns, "-o", "jsonpath={.spec.ports[0].targetPort} app={.spec.selector.app}"));
        Assert.Equal("2 8080/TCP", await Kubectl.OutputAsync("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].ports[0].containerPort}/{.spec.template.spec.containers[0].ports[0].protocol}"));
        Assert.Equal("fast", await Kubectl.OutputAsync("get", "configmap", "settings", "-n", ns, "-o", "jsonpath={.data.mode}"));
    }

    [Fact]
    public async Task Secrets_are_created_typed_validated_and_kept_immutable_as_upstream()
    {
        const string ns = "secrets";
        await Kubectl.OutputAsync("create", "namespace", ns);

        Assert.Contains("secret/db created", await Kubectl.OutputAsync("create", "secret", "generic", "db", "--from-literal=password=s3cret", "-n", ns), StringComparison.Ordinal);
        Assert.Equal("Opaque czNjcmV0", await Kubectl.OutputAsync("get", "secret", "db", "-n", ns, "-o", "jsonpath={.type} {.data.password}"));
        Assert.Matches(@"db\s+Opaque\s+1\s+", await Kubectl.OutputAsync("get", "secrets", "-n", ns));

        // stringData is write-only: merged into data, never stored.
        await CreateAsync(ns, "string-data.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: basic\ntype: kubernetes.io/basic-auth\nstringData:\n  username: admin\n");
        Assert.Equal("YWRtaW4= ", await Kubectl.OutputAsync("get", "secret", "basic", "-n", ns, "-o", "jsonpath={.data.username} {.stringData}"));

        var (tlsCode, _, tls) = await Kubectl.RunAsync("create", "-n", ns, "-f", await ManifestAsync("bad-tls.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cert\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\n"));
        Assert.NotEqual(0, tlsCode);
        Assert.Contains("data[tls.key]: Required value", tls, StringComparison.Ordinal);

        await CreateAsync(ns, "frozen.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: frozen\nimmutable: true\ndata:\n  k: dg==\n");
        var (frozenCode, _, frozen) = await Kubectl.RunAsync("patch", "secret", "frozen", "-n", ns, "--type=merge", "-p", """{"data":{"k":"dzI="}}""");
        Assert.NotEqual(0, frozenCode);
        Assert.Contains("data: Forbidden: field is immutable when `immutable` is set", frozen, StringComparison.Ordinal);
        var (typeCode, _, type) = await Kubectl.RunAsync("patch", "secret", "db", "-n", ns, "--type=merge", "-p", """{"type":"kubernetes.io/ssh-auth","data":{"ssh-privatekey":"a2V5"}}""");
        Assert.NotEqual(0, typeCode);
        Assert.Contains("type: Invalid value: \"kubernetes.io/ssh-auth\": field is immutable", type, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leases_are_served_in_the_coordination_group()
    {
        const string ns = "leases";
        await CreateInNewNamespaceAsync(ns, "lease.yaml", "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: node-a\nspec:\n  holderIdentity: node-a\n  leaseDurationSeconds: 40\n");

        Assert.Matches(@"node-a\s+node-a\s+", await Kubectl.OutputAsync("get", "leases", "-n", ns));
        Assert.Contains("leases", await Kubectl.OutputAsync("api-resources", "--api-group=coordination.k8s.io", "-o", "name"), StringComparison.Ordinal);
        var (code, _, stderr) = await Kubectl.RunAsync("patch", "lease", "node-a", "-n", ns, "--type=merge", "-p", """{"spec":{"leaseDurationSeconds":0}}""");
        Assert.NotEqual(0, code);
        Assert.Contains("spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_takes_new_images_tolerations_labels_and_status_but_refuses_other_spec_changes_as_upstream()
    {
        const string ns = "pod-update";
        await CreateInNewNamespaceAsync(ns, "updated-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    ports:\n    - containerPort: 80\n  tolerations:\n  - key: a\n    operator: Exists\n    effect: NoSchedule\n");

        string image = await Kubectl.OutputAsync("set", "image", "pod/web", "c=busybox:1.37", "-n", ns);
        await Kubectl.OutputAsync("patch", "pod", "web", "-n", ns, "--type=json", "-p", """[{"op":"add","path":"/spec/tolerations/-","value":{"key":"b","operator":"Exists","effect":"NoExecute","tolerationSeconds":30}}]""");
        await Kubectl.OutputAsync("label", "pod", "web", "-n", ns, "tier=web");
        await Kubectl.OutputAsync("annotate", "pod", "web", "-n", ns, "owner=team-a");
        await Kubectl.OutputAsync("patch", "pod", "web", "-n", ns, "--subresource=status", "--type=merge", "-p", """{"status":{"phase":"Running","podIP":"10.244.0.9"}}""");
        var (portsCode, _, ports) = await Kubectl.RunAsync("patch", "pod", "web", "-n", ns, "-p", """{"spec":{"containers":[{"name":"c","ports":[{"containerPort":81}]}]}}""");
        var (nodeCode, _, node) = await Kubectl.RunAsync("patch", "pod", "web", "-n", ns, "--type=merge", "-p", """{"spec":{"nodeName":"node-2"}}""");
        var (removedCode, _, removed) = await Kubectl.RunAsync("patch", "pod", "web", "-n", ns, "--type=json", "-p", """[{"op":"remove","path":"/spec/tolerations/0"}]""");

        Assert.Contains("pod/web image updated", image, StringComparison.Ordinal);
        const string refused = "The Pod \"web\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";
        Assert.NotEqual(0, portsCode);
        Assert.Contains(refused, ports, StringComparison.Ordinal);
        Assert.Contains("containers[0].ports", ports, StringComparison.Ordinal);
        Assert.NotEqual(0, nodeCode);
        Assert.Contains(refused, node, StringComparison.Ordinal);
        Assert.Contains("+ \tnodeName: \"node-2\"", node, StringComparison.Ordinal);
        Assert.NotEqual(0, removedCode);
        Assert.Contains("The Pod \"web\" is invalid: spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds", removed, StringComparison.Ordinal);
        Assert.Equal(
            // The not-ready and unreachable tolerations are the DefaultTolerationSeconds admission's, added at create.
            "busybox:1.37 80 a node.kubernetes.io/not-ready node.kubernetes.io/unreachable b web team-a Running 10.244.0.9 node=[]",
            await Kubectl.OutputAsync("get", "pod", "web", "-n", ns, "-o", "jsonpath={.spec.containers[0].image} {.spec.containers[0].ports[*].containerPort} {.spec.tolerations[*].key} {.metadata.labels.tier} {.metadata.annotations.owner} {.status.phase} {.status.podIP} node=[{.spec.nodeName}]"));
    }

    [Fact]
    public async Task Create_f_of_a_binding_binds_the_pod_it_names_once_and_get_bindings_is_not_allowed()
    {
        const string ns = "kubectl-bind";
        await Kubectl.OutputAsync("create", "namespace", ns);
        await Kubectl.OutputAsync("run", "web", "--image=busybox", "--restart=Never", "-n", ns);
        string binding = await ManifestAsync("binding.yaml", "apiVersion: v1\nkind: Binding\nmetadata:\n  name: web\ntarget:\n  apiVersion: v1\n  kind: Node\n  name: node-a\n");

        string created = await Kubectl.OutputAsync("create", "-f", binding, "-n", ns);
        var (againCode, _, again) = await Kubectl.RunAsync("create", "-f", binding, "-n", ns);
        var (listCode, _, listed) = await Kubectl.RunAsync("get", "bindings", "-n", ns);

        // As on a real cluster: the answer is a Success Status, and kubectl names what came back.
        Assert.Equal("status/<unknown> created", created.Trim());
        Assert.NotEqual(0, againCode);
        Assert.Contains("Error from server (Conflict)", again, StringComparison.Ordinal);
        Assert.Contains("Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to node \"node-a\"", again, StringComparison.Ordinal);
        Assert.NotEqual(0, listCode);
        Assert.Contains("Error from server (MethodNotAllowed): the server does not allow this method on the requested resource", listed, StringComparison.Ordinal);
        Assert.Equal("node-a True", await Kubectl.OutputAsync("get", "pod", "web", "-n", ns, "-o", "jsonpath={.spec.nodeName} {.status.conditions[?(@.type==\"PodScheduled\")].status}"));
    }

    [Fact]
    public async Task Get_pod_shows_a_gated_pod_as_SchedulingGated()
    {
        const string ns = "kubectl-gated";
        await CreateInNewNamespaceAsync(ns, "gated-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: held\nspec:\n  schedulingGates:\n  - name: example.com/hold\n  containers:\n  - name: c\n    image: busybox\n");

        Assert.Matches(@"held\s+0/1\s+SchedulingGated\s+0\s", await Kubectl.OutputAsync("get", "pod", "held", "-n", ns));
    }

    private string ServiceFile(string name, int port)
    {
        string path = Path.Combine(_server.DataDirectory, $"{name}.yaml");
        File.WriteAllText(path, $"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n  - port: {port}\n");
        return path;
    }

    private async Task EnsureBackendAsync()
    {
        var (code, _, _) = await Kubectl.RunAsync("get", "svc", "backend", "-n", "critical-app");
        if (code == 0)
        {
            return;
        }

        await Kubectl.OutputAsync("create", "namespace", "critical-app");
        string created = await Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        Assert.Contains("service/backend created", created, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend created", created, StringComparison.Ordinal);
    }

    /// <summary>Creates namespace <paramref name="ns"/>, then what the manifest holds in it with <c>kubectl create -f</c>.</summary>
    private async Task CreateInNewNamespaceAsync(string ns, string fileName, string yaml)
    {
        await Kubectl.OutputAsync("create", "namespace", ns);
        await CreateAsync(ns, fileName, yaml);
    }

    private async Task CreateAsync(string ns, string fileName, string yaml) =>
        await Kubectl.OutputAsync("create", "-f", await ManifestAsync(fileName, yaml), "-n", ns);

    /// <summary>Writes a manifest into the server's data directory for <c>kubectl create -f</c>; returns its path.</summary>
    private async Task<string> ManifestAsync(string fileName, string yaml)
    {
        string path = Path.Combine(_server.DataDirectory, fileName);
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
