using k8s.Models;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// One PolicyRule in sets, matched as upstream's RuleAllows (rbac/v1 evaluation_helpers): a verb, group and resource
/// (<c>*</c>, exact, or <c>*/SUB</c> for a subresource), an optional resource name; or a verb and a non-resource URL
/// (exact, <c>*</c>, or a prefix ending in <c>*</c>). <see cref="Source"/> says which binding granted it.
/// </summary>
internal sealed class CompiledRule
{
    private readonly HashSet<string> _verbs;
    private readonly HashSet<string> _groups;
    private readonly HashSet<string> _resources;
    private readonly HashSet<string> _names;
    private readonly string[] _urls;
    private readonly bool _anyVerb;
    private readonly bool _anyGroup;
    private readonly bool _anyResource;

    public CompiledRule(V1PolicyRule rule, string source)
    {
        Rule = rule;
        Source = source;
        _verbs = [.. rule.Verbs ?? []];
        _groups = [.. rule.ApiGroups ?? []];
        _resources = [.. rule.Resources ?? []];
        _names = [.. rule.ResourceNames ?? []];
        _urls = [.. rule.NonResourceURLs ?? []];
        _anyVerb = _verbs.Contains("*");
        _anyGroup = _groups.Contains("*");
        _anyResource = _resources.Contains("*");
    }

    public V1PolicyRule Rule { get; }

    /// <summary>The binding behind the rule, as RBAC's allow reason names it.</summary>
    public string Source { get; }

    public bool Allows(RequestAttributes request)
    {
        if (!_anyVerb && !_verbs.Contains(request.Verb))
        {
            return false;
        }

        if (!request.IsResourceRequest)
        {
            return AllowsPath(request.Path);
        }

        return (_anyGroup || _groups.Contains(request.Group))
            && (_anyResource || _resources.Contains(request.CombinedResource) || (request.Subresource.Length > 0 && _resources.Contains("*/" + request.Subresource)))
            && (_names.Count == 0 || _names.Contains(request.Name));
    }

    private bool AllowsPath(string path)
    {
        foreach (string url in _urls)
        {
            if (url == "*" || url == path || (url.EndsWith('*') && path.StartsWith(url.AsSpan(0, url.Length - 1), StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
