using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Switchboard.Kube.Serialization;

/// <summary>
/// The first document of a YAML text as JSON, as sigs.k8s.io/yaml converts a body for kube-apiserver: built from the
/// parser's events with a stack (no recursion, and no reflection, which the native build has no metadata for); a plain
/// scalar that reads as null, a boolean or a number is one (YAML 1.2's core schema), anything quoted or tagged
/// <c>!!str</c> is a string; an alias is a copy of its anchor's node. The API server checks a body's bounds first (YamlBounds).
/// </summary>
public static class YamlJson
{
    private const string StringTag = "tag:yaml.org,2002:str";

    /// <summary>The document's root, or null for an empty document; a <see cref="YamlException"/> for bad YAML.</summary>
    public static JsonNode? Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var open = new Stack<Open>();
        bool inDocument = false;
        while (parser.MoveNext())
        {
            JsonNode? completed;
            switch (parser.Current)
            {
                case DocumentStart:
                    inDocument = true;
                    continue;
                case DocumentEnd:
                    return null;
                case MappingStart start:
                    open.Push(new Open(new JsonObject(), start.Anchor));
                    continue;
                case SequenceStart start:
                    open.Push(new Open(new JsonArray(), start.Anchor));
                    continue;
                case MappingEnd or SequenceEnd:
                    var closed = open.Pop();
                    Remember(anchors, closed.Anchor, closed.Node);
                    completed = closed.Node;
                    break;
                case Scalar scalar when open.TryPeek(out var top) && top.Node is JsonObject && top.Key is null:
                    top.Key = scalar.Value;
                    continue;
                case Scalar scalar:
                    completed = ScalarValue(scalar);
                    Remember(anchors, scalar.Anchor, completed);
                    break;
                case AnchorAlias alias:
                    if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                    {
                        throw new YamlException(alias.Start, alias.End, $"unknown anchor '{alias.Value.Value}'");
                    }

                    completed = anchored?.DeepClone();
                    break;
                default:
                    continue;
            }

            if (open.Count == 0)
            {
                return inDocument ? completed : null;
            }

            Add(open.Peek(), completed, parser.Current!);
        }

        return null;
    }

    private static void Add(Open parent, JsonNode? value, ParsingEvent at)
    {
        if (parent.Node is JsonArray array)
        {
            array.Add(value);
            return;
        }

        // A collection as a mapping key: JSON has no such key.
        string key = parent.Key ?? throw new YamlException(at.Start, at.End, "a mapping key must be a scalar");
        if (!((JsonObject)parent.Node).TryAdd(key, value))
        {
            throw new YamlException(at.Start, at.End, $"mapping key \"{key}\" already defined");
        }

        parent.Key = null;
    }

    private static void Remember(Dictionary<string, JsonNode?> anchors, AnchorName anchor, JsonNode? node)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
    }

    private static JsonNode? ScalarValue(Scalar scalar)
    {
        string value = scalar.Value;
        // An untagged plain scalar carries the non-specific tag, which is resolved from its text.
        if (scalar.Style is not ScalarStyle.Plain || (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value == StringTag))
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            return JsonValue.Create(integer);
        }

        if (value.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long hex))
        {
            return JsonValue.Create(hex);
        }

        if (value.StartsWith("0o", StringComparison.Ordinal) && value.Length > 2 && value.AsSpan(2).IndexOfAnyExceptInRange('0', '7') < 0)
        {
            return JsonValue.Create(Convert.ToInt64(value[2..], 8));
        }

        return IsDecimalFloat(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double real) && double.IsFinite(real)
            ? JsonValue.Create(real)
            : JsonValue.Create(value);
    }

    /// <summary>YAML 1.2's float form, <c>[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?</c>: not "1_000", "Infinity" or "1e".</summary>
    private static bool IsDecimalFloat(string value)
    {
        int i = value.Length > 0 && value[0] is '-' or '+' ? 1 : 0;
        int digits = 0;
        while (i < value.Length && char.IsAsciiDigit(value[i]))
        {
            i++;
            digits++;
        }

        if (i < value.Length && value[i] == '.')
        {
            i++;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                i++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i < value.Length && value[i] is 'e' or 'E')
        {
            i++;
            if (i < value.Length && value[i] is '-' or '+')
            {
                i++;
            }

            int exponent = i;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                i++;
            }

            if (i == exponent)
            {
                return false;
            }
        }

        return i == value.Length;
    }

    /// <summary>A collection being built, the anchor it will be remembered under and, in a mapping, the key waiting for its value.</summary>
    private sealed class Open(JsonNode node, AnchorName anchor)
    {
        public JsonNode Node { get; } = node;

        public AnchorName Anchor { get; } = anchor;

        public string? Key { get; set; }
    }
}
