namespace Switchboard.Kube.Selectors;

/// <summary>
/// The query-string grammar of apimachinery's labels.Parse, with its lexer and its error messages: requirements
/// separated by commas, each <c>k</c>, <c>!k</c>, <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k in (a,b)</c>,
/// <c>k notin (a,b)</c>, <c>k&gt;1</c> or <c>k&lt;1</c>; whitespace between tokens is ignored.
/// </summary>
internal sealed class LabelSelectorParser
{
    private readonly List<(Token Token, string Text)> _tokens;
    private int _position;

    private LabelSelectorParser(List<(Token, string)> tokens) => _tokens = tokens;

    private enum Token
    {
        End,
        Identifier,
        Bang,
        NotEquals,
        Equals,
        DoubleEquals,
        In,
        NotIn,
        Open,
        Close,
        Comma,
        Greater,
        Less,
    }

    public static List<LabelRequirement> Parse(string text) => new LabelSelectorParser(Lex(text)).Requirements();

    private List<LabelRequirement> Requirements()
    {
        var requirements = new List<LabelRequirement>();
        while (true)
        {
            var (token, text) = Peek();
            switch (token)
            {
                case Token.Identifier or Token.Bang:
                    requirements.Add(Requirement());
                    (token, text) = Next();
                    if (token == Token.End)
                    {
                        return requirements;
                    }

                    if (token != Token.Comma)
                    {
                        throw Error($"found '{text}', expected: ',' or 'end of string'");
                    }

                    if (Peek() is var (after, afterText) && after is not (Token.Identifier or Token.Bang))
                    {
                        throw Error($"found '{afterText}', expected: identifier after ','");
                    }

                    break;
                case Token.End:
                    return requirements;
                default:
                    throw Error($"found '{text}', expected: !, identifier, or 'end of string'");
            }
        }
    }

    private LabelRequirement Requirement()
    {
        var (token, text) = Next();
        bool negated = token == Token.Bang;
        if (negated)
        {
            (token, text) = Next();
        }

        if (token != Token.Identifier)
        {
            throw RequirementError($"found '{text}', expected: identifier");
        }

        string key = text;
        if (negated || Peek().Token is Token.End or Token.Comma)
        {
            return new LabelRequirement(key, negated ? LabelOperator.DoesNotExist : LabelOperator.Exists, []);
        }

        (token, text) = Next(keywords: true);
        return token switch
        {
            Token.In => new LabelRequirement(key, LabelOperator.In, ValueSet()),
            Token.NotIn => new LabelRequirement(key, LabelOperator.NotIn, ValueSet()),
            Token.Equals or Token.DoubleEquals => new LabelRequirement(key, LabelOperator.Equals, [ExactValue()]),
            Token.NotEquals => new LabelRequirement(key, LabelOperator.NotEquals, [ExactValue()]),
            Token.Greater => new LabelRequirement(key, LabelOperator.GreaterThan, [IntegerValue()]),
            Token.Less => new LabelRequirement(key, LabelOperator.LessThan, [IntegerValue()]),
            _ => throw RequirementError($"found '{text}', expected: in, notin, =, ==, !=, gt, lt"),
        };
    }

    /// <summary><c>(a,b)</c>; empty members, as in <c>()</c> or <c>(a,)</c>, stand for the empty value.</summary>
    private string[] ValueSet()
    {
        var (token, text) = Next();
        if (token != Token.Open)
        {
            throw RequirementError($"found '{text}' expected: '('");
        }

        var values = new HashSet<string>(StringComparer.Ordinal);
        bool expectValue = true;
        while (true)
        {
            (token, text) = Next();
            switch (token)
            {
                case Token.Identifier when expectValue:
                    values.Add(text);
                    expectValue = false;
                    break;
                case Token.Comma:
                    if (expectValue)
                    {
                        values.Add("");
                    }

                    expectValue = true;
                    break;
                case Token.Close:
                    if (expectValue)
                    {
                        values.Add("");
                    }

                    return [.. values];
                default:
                    throw RequirementError(expectValue ? $"found '{text}', expected: ',', ')' or identifier" : $"found '{text}', expected: ',' or ')'");
            }
        }
    }

    /// <summary>The value after =, == or !=; nothing before the next comma or the end is the empty value.</summary>
    private string ExactValue()
    {
        if (Peek().Token is Token.End or Token.Comma)
        {
            return "";
        }

        var (token, text) = Next();
        return token == Token.Identifier ? text : throw RequirementError($"found '{text}', expected: identifier");
    }

    private string IntegerValue()
    {
        string value = ExactValue();
        return LabelRequirement.TryInteger(value, out _) ? value : throw RequirementError("for 'Gt', 'Lt' operators, the value must be an integer");
    }

    /// <summary>The next token; only where an operator is expected are <c>in</c> and <c>notin</c> keywords.</summary>
    private (Token Token, string Text) Next(bool keywords = false)
    {
        var next = Peek(keywords);
        _position = Math.Min(_position + 1, _tokens.Count - 1);
        return next;
    }

    private (Token Token, string Text) Peek(bool keywords = false)
    {
        var (token, text) = _tokens[_position];
        return !keywords && token is Token.In or Token.NotIn ? (Token.Identifier, text) : (token, text);
    }

    private static List<(Token, string)> Lex(string text)
    {
        var tokens = new List<(Token, string)>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && IsWhitespace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                tokens.Add((Token.End, ""));
                return tokens;
            }

            int start = i;
            if (IsSymbol(text[i]))
            {
                // The longest symbol: != and == before ! and =.
                i += i + 1 < text.Length && text[i + 1] == '=' && text[i] is '!' or '=' ? 2 : 1;
                string symbol = text[start..i];
                tokens.Add((Symbol(symbol), symbol));
                continue;
            }

            while (i < text.Length && !IsWhitespace(text[i]) && !IsSymbol(text[i]))
            {
                i++;
            }

            string word = text[start..i];
            tokens.Add((word switch { "in" => Token.In, "notin" => Token.NotIn, _ => Token.Identifier }, word));
        }
    }

    private static Token Symbol(string symbol) => symbol switch
    {
        "!" => Token.Bang,
        "!=" => Token.NotEquals,
        "=" => Token.Equals,
        "==" => Token.DoubleEquals,
        "(" => Token.Open,
        ")" => Token.Close,
        "," => Token.Comma,
        ">" => Token.Greater,
        _ => Token.Less,
    };

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsSymbol(char c) => c is '=' or '!' or '(' or ')' or ',' or '>' or '<';

    private static FormatException RequirementError(string why) => Error("unable to parse requirement: " + why);

    private static FormatException Error(string why) => new(why);
}
