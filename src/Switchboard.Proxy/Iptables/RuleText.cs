using System.Globalization;
using System.Text;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// A rule's arguments in one canonical form, whether written by us (kube-proxy's spelling) or printed back by
/// <c>iptables-save</c> (which reorders matches, adds <c>/32</c>, prints <c>--or-mark</c> as <c>--set-xmark</c>,
/// the probability in fixed point, and the defaults of <c>recent</c> and <c>REJECT</c>). Options are grouped with
/// their values and sorted, so two spellings of one rule compare equal.
/// </summary>
internal static class RuleText
{
    public static string Canonical(string args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var tokens = Tokens(args);
        var groups = new List<string>();
        var group = new StringBuilder();
        string option = "";
        bool negated = false;
        for (int i = 0; i <= tokens.Count; i++)
        {
            string? token = i < tokens.Count ? tokens[i] : null;
            if (token is null || token == "!" || token.StartsWith('-'))
            {
                if (option.Length > 0)
                {
                    if (Normalize(option, group.ToString().Trim()) is { } normalized)
                    {
                        groups.Add((negated ? "! " : "") + normalized);
                    }

                    negated = false;
                }

                option = "";
                group.Clear();
                if (token == "!")
                {
                    negated = true;
                    continue;
                }

                option = token ?? "";
                continue;
            }

            group.Append(' ').Append(token);
        }

        groups.Sort(StringComparer.Ordinal);
        return string.Join(' ', groups);
    }

    // The option with its value in one spelling; null for options that only restate a default.
    private static string? Normalize(string option, string value) => option switch
    {
        "--source" => Normalize("-s", value),
        "--destination" => Normalize("-d", value),
        "-s" or "-d" when !value.Contains('/', StringComparison.Ordinal) => $"{option} {value}/32",
        "--or-mark" => $"--set-xmark {value}/{value}",
        "--xor-mark" => $"--set-xmark {value}/0x0",
        "--probability" => $"--probability {Math.Round(double.Parse(value, CultureInfo.InvariantCulture), 8).ToString("F8", CultureInfo.InvariantCulture)}",
        "--mask" when value == "255.255.255.255" => null,
        "--rsource" => null,
        "--reject-with" when value == "icmp-port-unreachable" => null,
        _ => value.Length == 0 ? option : $"{option} {value}",
    };

    // Space-separated, with double-quoted arguments kept whole (their quotes dropped: save quotes only when needed).
    private static List<string> Tokens(string args)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < args.Length)
        {
            if (args[i] == ' ')
            {
                i++;
                continue;
            }

            if (args[i] == '"')
            {
                int end = args.IndexOf('"', i + 1);
                end = end < 0 ? args.Length : end;
                tokens.Add(args[(i + 1)..end]);
                i = end + 1;
                continue;
            }

            int next = args.IndexOf(' ', i);
            next = next < 0 ? args.Length : next;
            tokens.Add(args[i..next]);
            i = next;
        }

        return tokens;
    }
}
