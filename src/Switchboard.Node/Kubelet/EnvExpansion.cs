using System.Text;

namespace Switchboard.Node.Kubelet;

/// <summary>Kubernetes' <c>$(VAR)</c> expansion: a defined reference is replaced, an undefined one stays verbatim, <c>$$</c> is a literal <c>$</c>.</summary>
internal static class EnvExpansion
{
    public static string Expand(string input, Func<string, string?> lookup)
    {
        if (!input.Contains('$', StringComparison.Ordinal))
        {
            return input;
        }

        var output = new StringBuilder(input.Length);
        int i = 0;
        while (i < input.Length)
        {
            char c = input[i];
            if (c != '$' || i + 1 >= input.Length)
            {
                output.Append(c);
                i++;
            }
            else if (input[i + 1] == '$')
            {
                output.Append('$');
                i += 2;
            }
            else if (input[i + 1] == '(' && input.IndexOf(')', i + 2) is int close and > 0)
            {
                string name = input[(i + 2)..close];
                output.Append(lookup(name) ?? input[i..(close + 1)]);
                i = close + 1;
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        return output.ToString();
    }
}
