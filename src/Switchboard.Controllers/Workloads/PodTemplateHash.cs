using System.Globalization;
using System.Text;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// The <c>pod-template-hash</c>: FNV-32a of the template (and the collision count), written with the alphabet upstream
/// uses for generated names so that it never spells words.
/// </summary>
internal static class PodTemplateHash
{
    public const string Label = "pod-template-hash";
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Of(V1PodTemplateSpec template, int? collisionCount)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(Json.Canonical(template) + (collisionCount is { } c ? "/" + c.ToString(CultureInfo.InvariantCulture) : "")))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        var decimalText = hash.ToString(CultureInfo.InvariantCulture);
        var encoded = new StringBuilder(decimalText.Length);
        foreach (char ch in decimalText)
        {
            encoded.Append(Alphabet[ch % Alphabet.Length]);
        }

        return encoded.ToString();
    }

    /// <summary>Whether a ReplicaSet's template is the Deployment's, ignoring the hash label the ReplicaSet adds.</summary>
    public static bool SameTemplate(V1PodTemplateSpec? replicaSetTemplate, V1PodTemplateSpec? deploymentTemplate)
    {
        if (replicaSetTemplate is null || deploymentTemplate is null)
        {
            return false;
        }

        var copy = ModelJson.Clone(replicaSetTemplate);
        copy.Metadata?.Labels?.Remove(Label);
        return ModelJson.SemanticallyEqual(copy, deploymentTemplate);
    }
}
