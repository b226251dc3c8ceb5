namespace Switchboard.ApiServer.Registry;

/// <summary>One page of a list: the items, the revision it was read at and the token for the next page.</summary>
internal sealed record ListResult<T>(IReadOnlyList<T> Items, long Revision, string? Continue, long? RemainingItemCount);
