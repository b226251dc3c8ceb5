using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>Server-side field validation (the fieldValidation parameter): Strict rejects unknown fields (400), Warn (the default) reports them, Ignore does neither.</summary>
internal static class FieldValidation
{
    public static void Check(HttpContext http, JsonNode node, Type type, string kind, string version)
    {
        string directive = http.Request.Query["fieldValidation"].ToString();
        if (directive == "Ignore")
        {
            return;
        }

        var unknown = UnknownFields.Find(node, type);
        if (unknown.Count == 0)
        {
            return;
        }

        if (directive == "Strict")
        {
            throw ApiException.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: " +
                string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
        }

        foreach (string field in unknown)
        {
            http.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{field}\\\"\"");
        }
    }
}
