using Switchboard.ApiServer.Errors;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// The one translation of <see cref="StorageException"/> into the Status a client gets, as kube-apiserver interprets
/// its storage errors: a store failure leaves <see cref="ResourceStore{T}"/> only as an <see cref="ApiException"/>.
/// </summary>
internal static class StorageErrors
{
    private const string ContinueExpired = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

    /// <param name="e">The store's failure.</param>
    /// <param name="revision">The resourceVersion the request read at or watched from (0: the latest).</param>
    /// <param name="continuing">Whether the request continued a paged list from its token.</param>
    public static ApiException ToApi(StorageException e, long revision = 0, bool continuing = false) => e.Error switch
    {
        StorageError.Compacted when continuing => ApiException.Expired(ContinueExpired),
        StorageError.Compacted => TooOld(revision, e.Revision),
        StorageError.FutureRevision => ApiException.Internal($"Too large resource version: {revision}, current: {e.Revision}"),
        StorageError.Unavailable => ApiException.Unavailable(e.Message, e),
        _ => ApiException.Internal(e.Message, e),
    };

    /// <summary>A read or watch from a revision the store has compacted away: 410 Expired.</summary>
    public static ApiException TooOld(long revision, long compacted) => ApiException.Expired($"too old resource version: {revision} ({compacted})");
}
