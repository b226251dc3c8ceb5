namespace Switchboard.ApiServer.Registry;

/// <summary>The parts of DeleteOptions the store honours.</summary>
internal sealed record DeleteRequest(
    string? PropagationPolicy = null,
    long? GracePeriodSeconds = null,
    string? PreconditionUid = null,
    string? PreconditionResourceVersion = null,
    bool DryRun = false);
