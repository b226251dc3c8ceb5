using System.Net;
using k8s.Autorest;

namespace Switchboard.Controllers.Shared;

/// <summary>API calls on an object that may be gone meanwhile, which leaves the caller nothing to do.</summary>
internal static class ApiCalls
{
    /// <summary>Runs <paramref name="call"/>; a 404 Not Found means the object is already gone.</summary>
    public static async Task IgnoreNotFoundAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
    }

    /// <summary>The result of <paramref name="call"/>, or default when the object is already gone (404 Not Found).</summary>
    public static async Task<T?> IgnoreNotFoundAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }
    }
}
