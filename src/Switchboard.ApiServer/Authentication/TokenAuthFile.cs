using System.Text;

namespace Switchboard.ApiServer.Authentication;

/// <summary>
/// kube-apiserver's <c>--token-auth-file</c>: static bearer tokens, a CSV line each, <c>token,user,uid[,"group1,group2"]</c>.
/// Read once at start, as upstream does (a change needs a restart).
/// </summary>
internal sealed class TokenAuthFile
{
    private readonly Dictionary<string, UserInfo> _users;

    private TokenAuthFile(Dictionary<string, UserInfo> users) => _users = users;

    public static TokenAuthFile Empty { get; } = new(new Dictionary<string, UserInfo>(StringComparer.Ordinal));

    public int Count => _users.Count;

    /// <summary>Reads the file; a malformed line fails the start with its line number, as upstream's NewCSV.</summary>
    /// <exception cref="FormatException">A line has fewer than three fields or a blank token or user.</exception>
    public static TokenAuthFile Load(string path)
    {
        var users = new Dictionary<string, UserInfo>(StringComparer.Ordinal);
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var fields = SplitCsv(line);
            if (fields.Count < 3)
            {
                throw new FormatException($"{path}:{number}: token file lines are token,user,uid[,\"group1,group2\"]: only {fields.Count} fields");
            }

            string token = fields[0].Trim();
            string user = fields[1].Trim();
            if (token.Length == 0 || user.Length == 0)
            {
                throw new FormatException($"{path}:{number}: a token file line needs a token and a user name");
            }

            var groups = fields.Count > 3 ? fields[3].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];

            // As upstream: a repeated token keeps its last line.
            users[token] = UserInfo.Create(user, fields[2].Trim(), groups);
        }

        return new TokenAuthFile(users);
    }

    public UserInfo? Find(string token) => _users.GetValueOrDefault(token);

    /// <summary>One CSV record (RFC 4180 quoting), as Go's encoding/csv reads the file.</summary>
    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }
}
