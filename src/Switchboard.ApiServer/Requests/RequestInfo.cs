namespace Switchboard.ApiServer.Requests;

/// <summary>
/// A resource request parsed from its path: /api/v1/… or /apis/GROUP/VERSION/…. Apart from Http, which routes by it, so
/// that what observes requests (metrics) can read it too, as upstream's request.RequestInfo.
/// </summary>
internal sealed record RequestInfo(string Group, string Version, string Resource, string? Namespace, string? Name, string? Subresource);
