using System.Buffers;
using System.Text;

namespace Switchboard.Kube.Trace;

/// <summary>
/// The Services a <c>/trace</c> reader wants events about (<c>?service=NAMESPACE/NAME</c>, repeatable), for a reader
/// that wants few of a busy source's events: the web view, the Services its pages show, not a load's. Each
/// <see cref="ITraceRing"/> matches its events' own fields against it before it decodes or encodes anything, so
/// an event no reader asked about costs a reader a comparison, never an allocation or a JSON line: connections by the
/// Service they dialled, DNS answers by their question name (<see cref="IsAboutName"/>).
/// </summary>
public sealed class TraceSelection
{
    private static readonly byte[] Svc = "svc"u8.ToArray();
    private static readonly SearchValues<char> LabelCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    private readonly (string Namespace, string Name, byte[] NamespaceBytes, byte[] NameBytes)[] _services;

    private TraceSelection(IEnumerable<(string Namespace, string Name)> services) =>
        _services = [.. services.Distinct().Select(s => (s.Namespace, s.Name, Encoding.ASCII.GetBytes(s.Namespace), Encoding.ASCII.GetBytes(s.Name)))];

    /// <summary>
    /// The selection <c>?service=</c> values ask for: none, null (every event); each <c>NAMESPACE/NAME</c>, two DNS
    /// labels (lower case letters, digits and '-', at most 63 each). <paramref name="error"/> says what is wrong with one.
    /// </summary>
    public static bool TryParse(IEnumerable<string> values, out TraceSelection? selection, out string? error)
    {
        ArgumentNullException.ThrowIfNull(values);
        var services = new List<(string, string)>();
        foreach (string value in values)
        {
            if (!IsService(value))
            {
                (selection, error) = (null, $"service: \"{value}\" is not NAMESPACE/NAME (two DNS labels: lower case letters, digits and '-', at most 63 characters each)");
                return false;
            }

            int slash = value.IndexOf('/', StringComparison.Ordinal);
            services.Add((value[..slash], value[(slash + 1)..]));
        }

        (selection, error) = (services.Count > 0 ? new TraceSelection(services) : null, null);
        return true;
    }

    /// <summary>Whether <paramref name="value"/> is a Service as <c>?service=</c> takes it: <c>NAMESPACE/NAME</c>, two DNS labels.</summary>
    public static bool IsService(string value) =>
        value.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 && IsLabel(value.AsSpan(0, slash)) && IsLabel(value.AsSpan(slash + 1));

    /// <summary>Whether a connection to <paramref name="service"/> (<c>NAMESPACE/NAME</c>, or <c>NAMESPACE/NAME:PORT</c>) is wanted.</summary>
    public bool IsAboutService(string? service)
    {
        if (service is null || service.IndexOf('/', StringComparison.Ordinal) is not (var slash and >= 0))
        {
            return false;
        }

        ReadOnlySpan<char> ns = service.AsSpan(0, slash);
        ReadOnlySpan<char> name = service.AsSpan(slash + 1);
        if (name.IndexOf(':') is var colon and >= 0)
        {
            name = name[..colon];
        }

        foreach (var s in _services)
        {
            if (ns.SequenceEqual(s.Namespace) && name.SequenceEqual(s.Name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a DNS question name in wire form (length-prefixed labels, uncompressed: a question's name is a message's
    /// first) is about one of the Services, in any case: a search-path attempt for it (first label NAME, whatever
    /// follows) or a name under it (<c>…NAME.NAMESPACE.svc.…</c>: the Service's own name, its SRV names, its pods).
    /// </summary>
    public bool IsAboutName(ReadOnlySpan<byte> wireName)
    {
        foreach (var s in _services)
        {
            ReadOnlySpan<byte> rest = wireName;
            bool first = true;
            while (NextLabel(ref rest, out ReadOnlySpan<byte> label))
            {
                if (EqualsIgnoringCase(label, s.NameBytes))
                {
                    ReadOnlySpan<byte> after = rest;
                    if (first
                        || (NextLabel(ref after, out ReadOnlySpan<byte> ns) && EqualsIgnoringCase(ns, s.NamespaceBytes) && NextLabel(ref after, out ReadOnlySpan<byte> svc) && EqualsIgnoringCase(svc, Svc)))
                    {
                        return true;
                    }
                }

                first = false;
            }
        }

        return false;
    }

    /// <summary>The next label of a wire name; false at the root, at a compression pointer or where the name is cut off.</summary>
    private static bool NextLabel(ref ReadOnlySpan<byte> name, out ReadOnlySpan<byte> label)
    {
        if (name.Length == 0 || name[0] is 0 or > 63 || name.Length < 1 + name[0])
        {
            label = default;
            return false;
        }

        label = name.Slice(1, name[0]);
        name = name[(1 + name[0])..];
        return true;
    }

    /// <summary><paramref name="lower"/> is lower case already: ASCII letters of <paramref name="text"/> compare in either case.</summary>
    private static bool EqualsIgnoringCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lower)
    {
        if (text.Length != lower.Length)
        {
            return false;
        }

        for (int i = 0; i < text.Length; i++)
        {
            if ((text[i] is >= (byte)'A' and <= (byte)'Z' ? text[i] | 0x20 : text[i]) != lower[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLabel(ReadOnlySpan<char> label) =>
        label.Length is > 0 and <= 63 && !label.ContainsAnyExcept(LabelCharacters);
}
