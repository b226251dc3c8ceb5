using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Selectors;

/// <summary>The labelSelector query parameter of a list, watch or deletecollection.</summary>
internal static class LabelSelectorParameter
{
    /// <summary>The parsed selector; a malformed one is the 400 kube-apiserver answers, with the parser's message.</summary>
    public static LabelSelector Parse(string? text)
    {
        try
        {
            return LabelSelector.Parse(text);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
    }
}
