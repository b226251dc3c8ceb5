using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Security;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Authorization;

/// <summary>
/// Identities and RBAC judged by the real kubectl 1.32 and KubernetesClient: users of the token file, a client
/// certificate of the cluster CA and a service account's token, each allowed exactly what its bindings grant, with
/// kube-apiserver's 403 otherwise, and kubectl auth can-i (--list, --as) and whoami answering from the same policy.
/// </summary>
public sealed class RbacKubectlTests(RbacApiServer server) : IClassFixture<RbacApiServer>
{
    private Kubectl Admin => server.Kubectl;

    [Fact]
    public async Task A_user_bound_to_view_reads_but_is_refused_a_create_with_kube_apiservers_message()
    {
        await Admin.OutputAsync("create", "namespace", "viewers");
        await Admin.OutputAsync("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "viewers");
        await Admin.OutputAsync("create", "configmap", "settings", "--from-literal=a=b", "-n", "viewers");

        await Eventually.WaitAsync(async () => (await AsAsync(RbacApiServer.AliceToken, "get", "configmaps", "-n", "viewers")).ExitCode == 0, "alice can list configmaps once bound to view");
        string read = await AsOkAsync(RbacApiServer.AliceToken, "get", "configmap", "settings", "-n", "viewers", "-o", "jsonpath={.data.a}");
        Assert.Equal("b", read);

        var create = await AsAsync(RbacApiServer.AliceToken, "create", "configmap", "more", "-n", "viewers");
        Assert.Equal(1, create.ExitCode);
        Assert.Equal(
            "error: failed to create configmap: configmaps is forbidden: User \"alice\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"viewers\"",
            create.Stderr.Trim());

        var secrets = await AsAsync(RbacApiServer.AliceToken, "get", "secrets", "-n", "viewers");
        Assert.Contains("Error from server (Forbidden): secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"viewers\"", secrets.Stderr, StringComparison.Ordinal);

        var elsewhere = await AsAsync(RbacApiServer.AliceToken, "get", "pods", "-n", "default");
        Assert.Contains("pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"", elsewhere.Stderr, StringComparison.Ordinal);

        var nodes = await AsAsync(RbacApiServer.AliceToken, "get", "nodes");
        Assert.Contains("nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" at the cluster scope", nodes.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_403_is_kube_apiservers_Status()
    {
        using var http = HttpTo(RbacApiServer.BobToken);
        var response = await http.GetAsync(new Uri(server.Host.Url, "/api/v1/namespaces/default/pods/web"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var expected = JsonNode.Parse("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" is forbidden: User \"bob\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\"","reason":"Forbidden","details":{"name":"web","kind":"pods"},"code":403}""");
        var actual = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(JsonNode.DeepEquals(expected, actual), actual?.ToJsonString());

        var path = await http.GetAsync(new Uri(server.Host.Url, "/metrics"));
        Assert.Equal(HttpStatusCode.Forbidden, path.StatusCode);
        using var pathStatus = JsonDocument.Parse(await path.Content.ReadAsStringAsync());
        Assert.Equal("forbidden: User \"bob\" cannot get path \"/metrics\"", pathStatus.RootElement.GetProperty("message").GetString());

        // Discovery is everyone's (system:discovery to system:authenticated).
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Host.Url, "/apis"))).StatusCode);

        using var nobody = HttpTo("not-a-token-of-this-cluster");
        Assert.Equal(HttpStatusCode.Unauthorized, (await nobody.GetAsync(new Uri(server.Host.Url, "/api/v1/pods"))).StatusCode);
    }

    [Fact]
    public async Task Can_i_answers_from_the_policy_with_list_and_as()
    {
        await Admin.OutputAsync("create", "namespace", "editors");
        await Admin.OutputAsync("create", "rolebinding", "devs-edit", "--clusterrole=edit", "--group=devs", "-n", "editors");
        await Eventually.WaitAsync(async () => (await AsAsync(RbacApiServer.CarolToken, "auth", "can-i", "create", "deployments.apps", "-n", "editors")).ExitCode == 0, "carol may create deployments once devs are bound to edit");

        Assert.Equal("yes", (await AsOkAsync(RbacApiServer.CarolToken, "auth", "can-i", "delete", "pods", "-n", "editors")).Trim());
        Assert.Equal("yes", (await AsOkAsync(RbacApiServer.CarolToken, "auth", "can-i", "get", "pods", "--subresource=log", "-n", "editors")).Trim());
        var role = await AsAsync(RbacApiServer.CarolToken, "auth", "can-i", "create", "roles.rbac.authorization.k8s.io", "-n", "editors");
        Assert.Equal((1, "no"), (role.ExitCode, role.Stdout.Trim()));
        var outside = await AsAsync(RbacApiServer.CarolToken, "auth", "can-i", "create", "pods", "-n", "default");
        Assert.Equal((1, "no"), (outside.ExitCode, outside.Stdout.Trim()));
        Assert.Equal("yes", (await AsOkAsync(RbacApiServer.CarolToken, "auth", "can-i", "get", "/version")).Trim());

        string list = await AsOkAsync(RbacApiServer.CarolToken, "auth", "can-i", "--list", "-n", "editors");
        string[] header = list.Split('\n')[0].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["Resources", "Non-Resource URLs", "Resource Names", "Verbs"], header);
        Assert.Matches(@"(?m)^deployments\.apps\s+\[\]\s+\[\]\s+\[create delete deletecollection patch update get list watch\]", list);
        Assert.Matches(@"(?m)^pods/log\s+\[\]\s+\[\]\s+\[get list watch\]", list);
        Assert.Matches(@"(?m)^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]", list);
        Assert.Matches(@"(?m)^\s+\[/api/\*\]\s+\[\]\s+\[get\]", list);

        // The admin asks on carol's behalf; impersonation is its right as a member of system:masters.
        Assert.Equal("yes", (await Admin.OutputAsync("auth", "can-i", "create", "pods", "-n", "editors", "--as=carol", "--as-group=devs")).Trim());
        var asCarolAlone = await Admin.RunAsync("auth", "can-i", "create", "pods", "-n", "editors", "--as=carol");
        Assert.Equal((1, "no"), (asCarolAlone.ExitCode, asCarolAlone.Stdout.Trim()));

        // carol may not impersonate anyone.
        var impersonating = await AsAsync(RbacApiServer.CarolToken, "get", "pods", "-n", "editors", "--as=alice");
        Assert.Contains("users \"alice\" is forbidden: User \"carol\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", impersonating.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_namespace_admin_binds_what_it_holds_and_is_refused_more()
    {
        await Admin.OutputAsync("create", "namespace", "escalation");
        await Admin.OutputAsync("create", "rolebinding", "bob-admin", "--clusterrole=admin", "--user=bob", "-n", "escalation");

        await Eventually.WaitAsync(
            async () => (await AsAsync(RbacApiServer.BobToken, "create", "rolebinding", "carol-view", "--clusterrole=view", "--user=carol", "-n", "escalation")).ExitCode == 0,
            "bob, admin of the namespace, binds view there");

        var escalating = await AsAsync(RbacApiServer.BobToken, "create", "rolebinding", "carol-admin", "--clusterrole=cluster-admin", "--user=carol", "-n", "escalation");
        Assert.Equal(1, escalating.ExitCode);
        Assert.Contains(
            "rolebindings.rbac.authorization.k8s.io \"carol-admin\" is forbidden: user \"bob\" (groups=[\"system:basic-user-group\",\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:",
            escalating.Stderr,
            StringComparison.Ordinal);

        var role = await AsAsync(RbacApiServer.BobToken, "create", "role", "node-reader", "--verb=get", "--resource=secrets", "-n", "escalation");
        Assert.Equal(0, role.ExitCode);
        var clusterRole = await AsAsync(RbacApiServer.BobToken, "create", "clusterrole", "wide", "--verb=get", "--resource=nodes");
        Assert.Contains("clusterroles.rbac.authorization.k8s.io is forbidden: User \"bob\" cannot create resource \"clusterroles\"", clusterRole.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whoami_names_the_user_its_uid_and_groups()
    {
        string json = await AsOkAsync(RbacApiServer.CarolToken, "auth", "whoami", "-o", "json");
        using var review = JsonDocument.Parse(json);
        Assert.Equal("SelfSubjectReview", review.RootElement.GetProperty("kind").GetString());
        var user = review.RootElement.GetProperty("status").GetProperty("userInfo");
        Assert.Equal("carol", user.GetProperty("username").GetString());
        Assert.Equal("1003", user.GetProperty("uid").GetString());
        Assert.Equal(["devs", "testers", "system:authenticated"], user.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        string table = await Admin.OutputAsync("auth", "whoami");
        Assert.Matches(@"Username\s+system:admin", table);
        Assert.Matches(@"Groups\s+\[system:masters system:authenticated\]", table);
    }

    [Fact]
    public async Task A_client_certificate_of_the_cluster_ca_authenticates_its_cn_and_organization()
    {
        await Admin.OutputAsync("create", "namespace", "certs");
        await Admin.OutputAsync("create", "rolebinding", "ops-view", "--clusterrole=view", "--group=ops", "-n", "certs");
        await Admin.OutputAsync("create", "configmap", "seen", "-n", "certs");

        using var certificate = ClusterCredentials.Issue(server.DataDirectory, TimeProvider.System, "dave", "ops", null);
        var config = new KubernetesClientConfiguration
        {
            Host = server.Host.Url.AbsoluteUri,
            SslCaCerts = new X509Certificate2Collection(X509CertificateLoader.LoadCertificateFromFile(Path.Combine(server.DataDirectory, "ca.crt"))),
            ClientCertificateData = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem())),
            ClientCertificateKeyData = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem())),
        };
        using var client = new Kubernetes(config);

        await Eventually.WaitAsync(async () =>
        {
            try
            {
                return (await client.CoreV1.ListNamespacedConfigMapAsync("certs")).Items.Any(c => c.Metadata.Name == "seen");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                return false;
            }
        }, "dave (O=ops) lists configmaps once ops is bound to view");

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "nope" } }, "certs"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        using var refusal = JsonDocument.Parse(refused.Response.Content);
        Assert.Equal("configmaps is forbidden: User \"dave\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"certs\"", refusal.RootElement.GetProperty("message").GetString());

        var review = await client.AuthenticationV1.CreateSelfSubjectReviewAsync(new V1SelfSubjectReview());
        Assert.Equal("dave", review.Status.UserInfo.Username);
        Assert.Equal(["ops", "system:authenticated"], review.Status.UserInfo.Groups);
    }

    [Fact]
    public async Task A_service_accounts_token_acts_as_the_account_until_the_account_is_gone()
    {
        await Admin.OutputAsync("create", "namespace", "robots");
        await Admin.OutputAsync("create", "serviceaccount", "builder", "-n", "robots");
        await Admin.OutputAsync("create", "rolebinding", "builder-view", "--clusterrole=view", "--serviceaccount=robots:builder", "-n", "robots");
        string token = (await Admin.OutputAsync("create", "token", "builder", "-n", "robots", "--duration=15m")).Trim();

        string[] parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        using var claims = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal("system:serviceaccount:robots:builder", claims.RootElement.GetProperty("sub").GetString());
        Assert.Equal(900, claims.RootElement.GetProperty("exp").GetInt64() - claims.RootElement.GetProperty("iat").GetInt64());

        // The JWKS publishes the key whose kid the token names.
        using var http = HttpTo(token);
        using var keys = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.Host.Url, "/openid/v1/jwks")));
        Assert.Equal(header.RootElement.GetProperty("kid").GetString(), keys.RootElement.GetProperty("keys")[0].GetProperty("kid").GetString());

        await Eventually.WaitAsync(async () => (await AsAsync(token, "get", "serviceaccounts", "-n", "robots")).ExitCode == 0, "the account's token lists what view allows");
        string whoami = await AsOkAsync(token, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}");
        Assert.Equal("""["system:serviceaccounts","system:serviceaccounts:robots","system:authenticated"]""", whoami);

        await Admin.OutputAsync("delete", "serviceaccount", "builder", "-n", "robots");
        await Eventually.WaitAsync(async () => (await AsAsync(token, "get", "serviceaccounts", "-n", "robots")).Stderr.Contains("Unauthorized", StringComparison.Ordinal), "a deleted account's token is refused");

        var tooShort = await Admin.RunAsync("create", "token", "default-missing", "-n", "robots");
        Assert.Contains("serviceaccounts \"default-missing\" not found", tooShort.Stderr, StringComparison.Ordinal);
    }

    private Task<ProcessResult> AsAsync(string token, params string[] args) => Admin.RunAsync([$"--token={token}", .. args]);

    private async Task<string> AsOkAsync(string token, params string[] args) =>
        (await AsAsync(token, args)).EnsureSuccess("kubectl " + string.Join(' ', args)).Stdout;

    private HttpClient HttpTo(string token)
    {
        var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
