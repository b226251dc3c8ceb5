using System.CommandLine;
using Switchboard.Storage;
using Switchboard.Storage.Etcd;

namespace Switchboard.Commands;

/// <summary>
/// kube-apiserver's flags for an etcd reached over TLS (<c>--etcd-cafile</c>, <c>--etcd-certfile</c>, <c>--etcd-keyfile</c>),
/// shared by <c>switchboard up</c> and <c>switchboard apiserver</c>; they go with <c>--store https://…</c>.
/// </summary>
internal sealed class EtcdTlsFlags
{
    private readonly Option<FileInfo?> _caFile = new("--etcd-cafile") { Description = "PEM CA that the etcd members' serving certificates chain to (https:// stores)" };
    private readonly Option<FileInfo?> _certFile = new("--etcd-certfile") { Description = "PEM client certificate to present to etcd, with --etcd-keyfile" };
    private readonly Option<FileInfo?> _keyFile = new("--etcd-keyfile") { Description = "PEM private key of --etcd-certfile" };

    /// <summary>Adds the flags, checked against the command's <paramref name="store"/>.</summary>
    public void AddTo(Command command, Option<StoreLocation> store)
    {
        command.Options.Add(_caFile);
        command.Options.Add(_certFile);
        command.Options.Add(_keyFile);
        command.Validators.Add(result =>
        {
            bool any = result.GetValue(_caFile) is not null || result.GetValue(_certFile) is not null || result.GetValue(_keyFile) is not null;
            if (any && result.GetValue(store) is not { IsTls: true })
            {
                result.AddError("--etcd-cafile, --etcd-certfile and --etcd-keyfile need --store https://HOST:PORT[,https://HOST:PORT…]");
            }

            if ((result.GetValue(_certFile) is null) != (result.GetValue(_keyFile) is null))
            {
                result.AddError("--etcd-certfile and --etcd-keyfile go together");
            }

            foreach (var file in new[] { result.GetValue(_caFile), result.GetValue(_certFile), result.GetValue(_keyFile) })
            {
                if (file is { Exists: false })
                {
                    result.AddError($"{file.FullName} does not exist");
                }
            }
        });
    }

    public EtcdStoreOptions Read(ParseResult result) => new()
    {
        CaFile = result.GetValue(_caFile)?.FullName,
        CertificateFile = result.GetValue(_certFile)?.FullName,
        KeyFile = result.GetValue(_keyFile)?.FullName,
    };
}
