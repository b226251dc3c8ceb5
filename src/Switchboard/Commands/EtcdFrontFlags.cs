using System.CommandLine;
using System.CommandLine.Parsing;
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
    private readonly Option<IPEndPoint?> _listen = new("--etcd-listen")
    {
        Description = "ADDR:PORT of the etcd v3 API over the embedded store, TLS with client certificates from the cluster CA ('' for none)",
        CustomParser = Parse,
        DefaultValueFactory = _ => new IPEndPoint(IPAddress.Loopback, EtcdFrontOptions.DefaultPort),
    };

    private readonly Option<IPEndPoint?> _plainListen = new("--etcd-plain-listen")
    {
        Description = "Loopback ADDR:PORT of the etcd v3 API without TLS, for tools (default: none)",
        CustomParser = Parse,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_listen);
        command.Options.Add(_plainListen);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_plainListen) is { } plain && !IPAddress.IsLoopback(plain.Address))
            {
                result.AddError("--etcd-plain-listen must be a loopback address: without TLS anyone who reaches it reads and writes the cluster");
            }
        });
    }

    /// <summary>The front's options, or null when the store is etcd itself or both listeners are off.</summary>
    public EtcdFrontOptions? Read(ParseResult result, StoreLocation store, DataDirectory dataDir)
    {
        var listen = result.GetValue(_listen);
        var plain = result.GetValue(_plainListen);
        return store.IsEtcd || (listen is null && plain is null)
            ? null
            : new EtcdFrontOptions { DataDirectory = dataDir.Path, Listen = listen, PlainListen = plain, DatabaseFile = dataDir.StoreFile };
    }

    private static IPEndPoint? Parse(ArgumentResult result)
    {
        string text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
        if (text.Length == 0)
        {
            return null;
        }

        if (IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0)
        {
            return endPoint;
        }

        result.AddError($"'{text}' is not ADDR:PORT");
        return null;
    }
}
