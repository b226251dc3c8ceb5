namespace Switchboard.ApiServer.Http;

/// <summary>Whether the server and what it reports on are ready, with the <c>/readyz?verbose</c> report.</summary>
internal delegate bool ReadinessCheck(out string report);
