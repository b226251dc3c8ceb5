namespace Switchboard.ApiServer.Registry;

/// <summary>
/// The API server reads the Kubernetes models' properties by reflection (OpenAPI schemas, unknown-field checks),
/// walking from one type to the types of its properties, which no trimming analysis can follow. The native build
/// keeps every type and member of the assemblies that declare models whole (TrimmerRootAssembly in
/// Switchboard.csproj), so those reads find what the JIT build finds.
/// </summary>
internal static class RootedModels
{
    public const string Justification = "The models' assemblies (KubernetesClient, Switchboard.ApiServer) are rooted whole in the native build.";
}
