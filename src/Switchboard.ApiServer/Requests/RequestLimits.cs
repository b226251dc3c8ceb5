using Switchboard.Storage;

namespace Switchboard.ApiServer.Requests;

/// <summary>
/// The bounds every request body is held to, apart from Http so that what works on a body after it is read (JSON
/// patch) is held to the same ones without depending on the layer that reads it.
/// </summary>
internal static class RequestLimits
{
    /// <summary>
    /// The deepest nesting a JSON or YAML body may have: System.Text.Json's default, which every object here is read and
    /// written with, so nothing accepted here fails later, and nothing recurses deep enough to overflow the stack.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>The largest body, 3 MiB: kube-apiserver's MaxRequestBodyBytes, twice what the store takes as one object.</summary>
    public const long MaxBytes = StorageLimits.MaxValueBytes * 2L;
}
