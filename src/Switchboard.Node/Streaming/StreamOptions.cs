using Microsoft.AspNetCore.Http;

namespace Switchboard.Node.Streaming;

/// <summary>
/// The streams an exec or attach request asks for, in kubelet's query names (<c>input</c>, <c>output</c>, <c>error</c>,
/// <c>tty</c>; the API server translates kubectl's <c>stdin</c>/<c>stdout</c>/<c>stderr</c>), and exec's <c>command</c>.
/// </summary>
internal sealed record StreamOptions(bool Stdin, bool Stdout, bool Stderr, bool Tty, IReadOnlyList<string> Command)
{
    /// <summary>The options of <paramref name="request"/>, or the reason they are invalid. With a tty, stderr is merged into stdout, as kubelet does.</summary>
    public static (StreamOptions? Options, string? Error) Parse(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool tty = Flag(request, "tty");
        var options = new StreamOptions(Flag(request, "input"), Flag(request, "output"), Flag(request, "error") && !tty, tty,
            [.. request.Query["command"].OfType<string>()]);
        return options.Stdin || options.Stdout || options.Stderr
            ? (options, null)
            : (null, "you must specify at least 1 of stdin, stdout, stderr");
    }

    /// <summary>kubelet's boolean parameters: absent, <c>0</c> or <c>false</c> (any case) are false; anything else, even empty, is true.</summary>
    private static bool Flag(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) && values.FirstOrDefault() is { } value
            && value != "0" && !value.Equals("false", StringComparison.OrdinalIgnoreCase);
}
