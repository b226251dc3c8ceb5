using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Exceptions;
using Switchboard.Kube.Serialization;
using YamlDotNet.Core;

namespace Switchboard.Kube.Client;

/// <summary>
/// A kubeconfig file's current context as a client configuration, read as client-go reads it: the cluster's server,
/// CA and TLS settings, the user's bearer token or client certificate (each inline as <c>…-data</c> or a file path,
/// relative to the kubeconfig), the context's namespace. KubernetesClient's own loader builds its YAML reader from
/// reflection metadata (member tokens) that the native build does not carry, so it fails there before reading a line.
/// Credential plugins (<c>exec</c>, <c>auth-provider</c>) are refused by name: no Switchboard kubeconfig uses them.
/// </summary>
public static class KubeconfigLoader
{
    public static KubernetesClientConfiguration Load(string path)
    {
        JsonObject root;
        try
        {
            root = YamlJson.Parse(File.ReadAllText(path)) as JsonObject ?? throw new KubeConfigException($"{path} holds no kubeconfig");
        }
        catch (YamlException e)
        {
            throw new KubeConfigException($"{path} is not YAML: {e.Message}");
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string contextName = Text(root, "current-context") ?? throw new KubeConfigException($"{path} has no current-context");
        var context = Entry(root, "contexts", "context", contextName, path);
        string clusterName = Text(context, "cluster") ?? throw new KubeConfigException($"context {contextName} of {path} names no cluster");
        var cluster = Entry(root, "clusters", "cluster", clusterName, path);
        var config = new KubernetesClientConfiguration
        {
            Host = Text(cluster, "server") ?? throw new KubeConfigException($"cluster {clusterName} of {path} has no server"),
            Namespace = Text(context, "namespace"),
            SkipTlsVerify = cluster["insecure-skip-tls-verify"]?.GetValueKind() == JsonValueKind.True,
            TlsServerName = Text(cluster, "tls-server-name"),
        };
        if (Bytes(cluster, "certificate-authority", directory) is { } ca)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPem(Encoding.UTF8.GetString(ca));
            config.SslCaCerts = authorities;
        }

        if (Text(context, "user") is { } userName)
        {
            var user = Entry(root, "users", "user", userName, path);
            if (user["exec"] is not null || user["auth-provider"] is not null)
            {
                throw new KubeConfigException($"user {userName} of {path} needs a credential plugin, which switchboard does not run");
            }

            config.AccessToken = Text(user, "token") ?? (Text(user, "tokenFile") is { } tokenFile ? File.ReadAllText(Path.Combine(directory, tokenFile)).Trim() : null);
            config.ClientCertificateData = Bytes(user, "client-certificate", directory) is { } certificate ? Convert.ToBase64String(certificate) : null;
            config.ClientCertificateKeyData = Bytes(user, "client-key", directory) is { } key ? Convert.ToBase64String(key) : null;
            config.Username = Text(user, "username");
            config.Password = Text(user, "password");
        }

        return config;
    }

    /// <summary>The <paramref name="field"/> object of the entry of list <paramref name="list"/> named <paramref name="name"/>.</summary>
    private static JsonObject Entry(JsonObject root, string list, string field, string name, string path) =>
        (root[list] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(entry => Text(entry, "name") == name)?[field] as JsonObject
        ?? throw new KubeConfigException($"{path} has no {field} named {name}");

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.GetValueKind() is JsonValueKind.String ? value.GetValue<string>() : obj[name]?.ToJsonString();

    /// <summary>The bytes of <c>NAME-data</c> (base64), else of the file <c>NAME</c> names.</summary>
    private static byte[]? Bytes(JsonObject obj, string name, string directory) =>
        Text(obj, name + "-data") is { } data ? Convert.FromBase64String(data)
        : Text(obj, name) is { } file ? File.ReadAllBytes(Path.Combine(directory, file))
        : null;
}
