using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// How the /binding subresource checks a v1 Binding and applies it to the stored object (pods: the scheduler assigns
/// the node); <c>Bind</c> gets the current time for the conditions it sets.
/// </summary>
internal sealed record BindingAccess<T>(Func<V1Binding, IEnumerable<FieldError>> Validate, Action<T, V1Binding, DateTime> Bind);
