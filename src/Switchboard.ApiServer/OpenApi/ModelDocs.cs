using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Xml;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The descriptions of the <c>k8s.Models</c> types and properties, read from the XML documentation the KubernetesClient
/// package ships beside its assembly (KubernetesClient.xml, copied to our output by the API server's project). Its
/// summaries are upstream's OpenAPI descriptions, re-wrapped at 80 columns by the client's generator, so lines are joined
/// back with a space and blank lines kept as paragraph breaks. Read by each <see cref="ModelSchemas"/>, that is for each
/// document rendered, and dropped with it: the rendered documents are kept, and the 4,357 summaries (2.6 MB of
/// strings, keys included) stayed for the process's life once a kubectl had asked for a document. (Embedding
/// upstream's swagger.json instead would carry its exact text, but it is 3.7 MB of another project's data to keep in
/// step by hand; the package's documentation follows the client version we build against.) Models of our own (the
/// resource metrics) carry upstream's descriptions in <see cref="DescriptionAttribute"/>s.
/// </summary>
internal sealed class ModelDocs
{
    private const string ModelPrefix = "k8s.Models.";

    private readonly Dictionary<string, string> _summaries = ReadSummaries();

    public string? OfType(Type type) =>
        _summaries.GetValueOrDefault("T:" + ModelPrefix + type.Name) ?? type.GetCustomAttribute<DescriptionAttribute>()?.Description;

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = RootedModels.Justification)]
    public string? OfProperty(Type type, string property) =>
        _summaries.GetValueOrDefault("P:" + ModelPrefix + type.Name + "." + property) ?? type.GetProperty(property)?.GetCustomAttribute<DescriptionAttribute>()?.Description;

    private static Dictionary<string, string> ReadSummaries()
    {
        var summaries = new Dictionary<string, string>(StringComparer.Ordinal);
        // The build copies it beside the executable (Switchboard.ApiServer.csproj).
        string file = Path.Combine(AppContext.BaseDirectory, "KubernetesClient.xml");
        if (!File.Exists(file))
        {
            return summaries;
        }

        using var reader = XmlReader.Create(file, new XmlReaderSettings { IgnoreComments = true, DtdProcessing = DtdProcessing.Prohibit });
        while (reader.ReadToFollowing("member"))
        {
            string? name = reader.GetAttribute("name");
            if (name is null || name.Length < 2 || !name.AsSpan(2).StartsWith(ModelPrefix, StringComparison.Ordinal) || name[0] is not ('T' or 'P'))
            {
                continue;
            }

            using var member = reader.ReadSubtree();
            if (member.ReadToDescendant("summary"))
            {
                summaries[name] = Unwrap(member.ReadElementContentAsString());
            }
        }

        return summaries;
    }

    /// <summary>Joins the generator's wrapped lines; an empty line stays a paragraph break.</summary>
    private static string Unwrap(string summary)
    {
        var text = new StringBuilder();
        bool paragraph = false;
        foreach (string raw in summary.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0)
            {
                paragraph = text.Length > 0;
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(paragraph ? "\n\n" : " ");
            }

            text.Append(line);
            paragraph = false;
        }

        // The generator writes every empty string of the original ("") as " ": resourceVersion="", empty string ("").
        return text.Replace("\" \"", "\"\"").ToString();
    }
}
