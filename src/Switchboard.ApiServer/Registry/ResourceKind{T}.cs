using System.Reflection;
using k8s;
using k8s.Models;

namespace Switchboard.ApiServer.Registry;

/// <summary>A resource backed by the <c>k8s.Models</c> type <typeparamref name="T"/> and its strategy.</summary>
internal sealed class ResourceKind<T> : ResourceKind
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    public required ResourceStrategy<T> Strategy { get; init; }

    /// <summary>The /scale view of the kind, or null when it has none.</summary>
    public ScaleAccess<T>? Scale { get; init; }

    /// <summary>The /binding view of the kind, or null when it has none.</summary>
    public BindingAccess<T>? Binding { get; init; }

    public override Type ModelType => typeof(T);

    /// <summary>Reads group, version, kind and plural from the model's KubernetesEntity attribute.</summary>
    public static ResourceKind<T> Create(ResourceStrategy<T> strategy, bool namespaced, string[]? shortNames = null, bool all = false, bool status = false, ScaleAccess<T>? scale = null, BindingAccess<T>? binding = null, bool createOnUpdate = false)
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{typeof(T).Name} has no KubernetesEntity attribute");
        return new ResourceKind<T>
        {
            Group = entity.Group,
            Version = entity.ApiVersion,
            Kind = entity.Kind,
            Plural = entity.PluralName,
            Namespaced = namespaced,
            ShortNames = shortNames ?? [],
            Categories = all ? ["all"] : [],
            HasStatus = status,
            HasScale = scale is not null,
            Scale = scale,
            HasBinding = binding is not null,
            Binding = binding,
            AllowCreateOnUpdate = createOnUpdate,
            Strategy = strategy,
        };
    }
}
