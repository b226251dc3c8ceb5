using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Discovery;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// apiextensions.k8s.io's CustomResourceDefinitions, read-only and always none: this server serves no custom
/// resources. kubectl asks for them when it validates a manifest of a kind whose OpenAPI has no PATCH (a Binding, a
/// review): the v2 document says the server validates fields, so kubectl checks whether the kind is a CRD before it
/// validates client-side, and fails the command if the list cannot be read. An empty list answers that truthfully.
/// </summary>
internal static class CustomResourceDefinitions
{
    public const string Group = "apiextensions.k8s.io";
    public const string Version = "v1";
    private const string Resource = "customresourcedefinitions";

    /// <summary>What discovery lists of the group: get and list, as there is nothing to write or watch.</summary>
    public static ServedGroup Discovery { get; } = new(Group, Version,
        [new ServedResource(Resource, "CustomResourceDefinition", Namespaced: false, ["get", "list"], typeof(V1CustomResourceDefinition))]);

    public static Task HandleAsync(HttpContext http, string[] rest)
    {
        if (http.Request.Method is not ("GET" or "HEAD"))
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, "CustomResourceDefinition");
        }

        return rest switch
        {
            [Resource] => ApiJson.WriteAsync(http, 200, new JsonObject
            {
                ["kind"] = "CustomResourceDefinitionList",
                ["apiVersion"] = Group + "/" + Version,
                ["metadata"] = new JsonObject(),
                ["items"] = new JsonArray(),
            }),
            [Resource, var name] => throw ApiException.NotFound(Resource, name, Group),
            _ => throw ApiException.PathNotFound(),
        };
    }
}
