using System.CommandLine;
using System.Net;
using Switchboard.EtcdFront;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary>
/// Where the etcd v3 front of the embedded store listens (<c>--etcd-listen</c>, TLS, 127.0.0.1:2379 unless '' turns it
/// off; <c>--etcd-plain-listen</c>, plain gRPC on loopback for tools, off unless given), shared by <c>up</c> and <c>apiserver</c>.
/// </summary>
internal sealed class EtcdFrontFlags
{
    private readonly Option<string> _listen = new("--etcd-listen")
    {
        Description = "ADDR:PORT of the etcd v3 API over the embedded store, TLS with client certificates from the cluster CA ('' for none)",
        DefaultValueFactory = _ => new IPEndPoint(IPAddress.Loopback, EtcdFrontOptions.DefaultPort).ToString(),
    };

    private readonly Option<string> _plainListen = new("--etcd-plain-listen")
    {
        Description = "Loopback ADDR:PORT of the etcd v3 API without TLS, for tools (default: none)",
        DefaultValueFactory = _ => "",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_listen);
        command.Options.Add(_plainListen);
        command.Validators.Add(result =>
        {
            foreach (var option in new[] { _listen, _plainListen })
            {
                string text = result.GetValue(option) ?? "";
                if (text.Length > 0 && !(IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0))
                {
                    result.AddError($"{option.Name} '{text}' is not ADDR:PORT");
                }
            }

            if (EndPoint(result.GetValue(_plainListen)) is { } plain && !IPAddress.IsLoopback(plain.Address))
            {
                result.AddError("--etcd-plain-listen must be a loopback address: without TLS anyone who reaches it reads and writes the cluster");
            }
        });
    }

    /// <summary>The front's options, or null when the store is etcd itself or both listeners are off.</summary>
    public EtcdFrontOptions? Read(ParseResult result, StoreLocation store, DataDirectory dataDir)
    {
        var listen = EndPoint(result.GetValue(_listen));
        var plain = EndPoint(result.GetValue(_plainListen));
        return store.IsEtcd || (listen is null && plain is null)
            ? null
            : new EtcdFrontOptions { DataDirectory = dataDir.Path, Listen = listen, PlainListen = plain, DatabaseFile = dataDir.StoreFile };
    }

    private static IPEndPoint? EndPoint(string? text) => IPEndPoint.TryParse(text ?? "", out var endPoint) && endPoint.Port != 0 ? endPoint : null;
}
