using Switchboard.ApiServer.Registry;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Tests.Registry;

/// <summary>The one table from storage failures to the Status kube-apiserver answers with.</summary>
public sealed class StorageErrorsTests
{
    [Fact]
    public void A_compacted_read_is_410_expired_naming_both_revisions()
    {
        var error = StorageErrors.ToApi(new StorageException(StorageError.Compacted, "compacted", revision: 90), revision: 42);

        Assert.Equal((410, "Expired", "too old resource version: 42 (90)"), (error.Code, error.Status.Reason, error.Message));
        Assert.Null(error.InnerException);
    }

    [Fact]
    public void A_compacted_continue_token_is_410_with_upstreams_advice()
    {
        var error = StorageErrors.ToApi(new StorageException(StorageError.Compacted, "compacted", revision: 90), revision: 42, continuing: true);

        Assert.Equal((410, "Expired"), (error.Code, error.Status.Reason));
        Assert.StartsWith("The provided continue parameter is too old to display a consistent list result.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_future_revision_is_an_internal_error_naming_the_current_one()
    {
        var error = StorageErrors.ToApi(new StorageException(StorageError.FutureRevision, "future", revision: 7), revision: 100);

        Assert.Equal((500, "InternalError", "Internal error occurred: Too large resource version: 100, current: 7"), (error.Code, error.Status.Reason, error.Message));
    }

    [Theory]
    [InlineData(StorageError.Unavailable, 503, "ServiceUnavailable", "etcd is down")]
    [InlineData(StorageError.InvalidArgument, 500, "InternalError", "Internal error occurred: etcd is down")]
    [InlineData(StorageError.KeyExists, 500, "InternalError", "Internal error occurred: etcd is down")]
    public void Other_failures_are_server_errors_that_keep_the_store_failure(StorageError kind, int code, string reason, string message)
    {
        var failure = new StorageException(kind, "etcd is down");

        var error = StorageErrors.ToApi(failure);

        Assert.Equal((code, reason, message), (error.Code, error.Status.Reason, error.Message));
        Assert.Same(failure, error.InnerException);
    }
}
