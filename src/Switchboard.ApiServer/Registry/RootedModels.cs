namespace Switchboard.ApiServer.Registry;

/// <summary>
/// The API server reads the Kubernetes models' properties by reflection (OpenAPI schemas, unknown-field checks),
/// walking from one type to the types of its properties, which no trimming analysis can follow. The native build
/// keeps those types whole (src/Switchboard/KeptModels.xml: KubernetesClient's k8s.Models and the metrics models), so
/// those reads find what the JIT build finds.
/// </summary>
internal static class RootedModels
{
    public const string Justification = "The models (KubernetesClient's k8s.Models, the metrics models) are kept whole in the native build: src/Switchboard/KeptModels.xml.";
}
