using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using Switchboard.ApiServer.Requests;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Checks a YAML body before it is built into objects, in one pass over the parser's events (no recursion): nesting
/// deeper than <see cref="RequestLimits.MaxDepth"/>, which building it would recurse into until the stack overflows and
/// takes the whole process down, and aliases that expand the document far beyond what its text holds (a "billion
/// laughs" bomb of a few hundred bytes that builds into gigabytes), refused as go-yaml refuses "excessive aliasing".
/// </summary>
internal static class YamlBounds
{
    /// <summary>Nodes aliases may bring in beyond the document's own: a manifest reusing an anchor a few times is far under it.</summary>
    private const long AliasAllowance = 10_000;

    /// <summary>Throws a <see cref="YamlException"/> saying what is wrong when <paramref name="text"/> is out of bounds.</summary>
    public static void Check(string text)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new Stack<(AnchorName Anchor, long NodesBefore)>();
        long literal = 0;
        long aliased = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case AnchorAlias alias:
                    aliased += anchors.GetValueOrDefault(alias.Value.Value);
                    if (aliased > literal + AliasAllowance)
                    {
                        throw new YamlException(alias.Start, alias.End, "document contains excessive aliasing");
                    }

                    break;
                case NodeEvent { NestingIncrease: > 0 } collection:
                    if (open.Count == RequestLimits.MaxDepth)
                    {
                        throw new YamlException(collection.Start, collection.End, $"exceeded max depth of {RequestLimits.MaxDepth}");
                    }

                    open.Push((collection.Anchor, literal + aliased));
                    literal++;
                    break;
                case Scalar scalar:
                    literal++;
                    Remember(anchors, scalar.Anchor, 1);
                    break;
                case MappingEnd or SequenceEnd when open.Count > 0:
                    var (anchor, before) = open.Pop();
                    Remember(anchors, anchor, literal + aliased - before);
                    break;
            }
        }
    }

    private static void Remember(Dictionary<string, long> anchors, AnchorName anchor, long nodes)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = nodes;
        }
    }
}
