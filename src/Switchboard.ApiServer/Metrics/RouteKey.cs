namespace Switchboard.ApiServer.Metrics;

/// <summary>What tells one <see cref="RequestRoute"/> from another: kube-apiserver's request metric labels but the code.</summary>
internal readonly record struct RouteKey(string Verb, string DryRun, string Group, string Version, string Resource, string Subresource, string Scope);
