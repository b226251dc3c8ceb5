using System.Text;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Security;

/// <summary>Writes the admin kubeconfig: CA data, server URL and bearer token.</summary>
internal static class Kubeconfig
{
    public const string FileName = "kubeconfig";

    public static string Render(Uri server, ClusterCredentials credentials)
    {
        string caData = Convert.ToBase64String(Encoding.ASCII.GetBytes(credentials.CertificateAuthority.ExportCertificatePem()));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: switchboard
              cluster:
                server: {server.AbsoluteUri.TrimEnd('/')}
                certificate-authority-data: {caData}
            users:
            - name: admin
              user:
                token: {credentials.AdminToken}
            contexts:
            - name: switchboard
              context:
                cluster: switchboard
                user: admin
                namespace: default
            current-context: switchboard

            """;
    }

    /// <summary>Writes DATA_DIR/kubeconfig through <c>kubeconfig.tmp</c>, owner-only from its first byte, and returns its path.</summary>
    public static string Write(string dataDirectory, Uri server, ClusterCredentials credentials)
    {
        string path = Path.Combine(dataDirectory, FileName);
        PrivateFiles.Write(path, Render(server, credentials));
        return path;
    }
}
