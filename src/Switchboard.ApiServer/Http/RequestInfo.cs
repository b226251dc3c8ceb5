namespace Switchboard.ApiServer.Http;

/// <summary>A resource request parsed from its path: /api/v1/… or /apis/GROUP/VERSION/….</summary>
internal sealed record RequestInfo(string Group, string Version, string Resource, string? Namespace, string? Name, string? Subresource);
