using System.Text;
using System.Text.Json;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// core/v1 Secrets, validated as kube-apiserver's ValidateSecret: key names, total size, and the keys each built-in
/// type requires. stringData is write-only: merged into data on every write, as the v1 conversion does.
/// </summary>
internal sealed class SecretStrategy : ResourceStrategy<V1Secret>
{
    public const string Opaque = "Opaque";

    /// <summary>kube-apiserver's MaxSecretSize: the sum of all values.</summary>
    private const int MaxSize = 1024 * 1024;

    private const string Redacted = "<secret contents redacted>";

    private static readonly IReadOnlyList<TableColumn<V1Secret>> Table =
    [
        Columns.Name<V1Secret>(),
        new("Type", "string", 0, (s, _) => s.Type, "", "The type of the secret"),
        new("Data", "integer", 0, (s, _) => s.Data?.Count ?? 0, "", "The number of entries in the data"),
        Columns.Age<V1Secret>(),
    ];

    public override IReadOnlyList<TableColumn<V1Secret>> TableColumns => Table;

    public override IReadOnlyDictionary<string, Func<V1Secret, string?>> SelectableFields { get; } = new Dictionary<string, Func<V1Secret, string?>>
    {
        ["type"] = s => s.Type,
    };

    public override void Default(V1Secret obj)
    {
        if (string.IsNullOrEmpty(obj.Type))
        {
            obj.Type = Opaque;
        }

        if (obj.StringData is { Count: > 0 } stringData)
        {
            obj.Data ??= new Dictionary<string, byte[]>();
            foreach (var (key, value) in stringData)
            {
                obj.Data[key] = Encoding.UTF8.GetBytes(value);
            }
        }

        obj.StringData = null;
    }

    public override IEnumerable<FieldError> Validate(V1Secret obj)
    {
        var data = obj.Data ?? new Dictionary<string, byte[]>();
        foreach (var error in ConfigKeys.Validate("data", data.Keys))
        {
            yield return error;
        }

        if (data.Values.Sum(v => (long)(v?.Length ?? 0)) > MaxSize)
        {
            yield return FieldError.TooLong("data", MaxSize);
        }

        foreach (var error in ValidateType(obj, data))
        {
            yield return error;
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1Secret obj, V1Secret old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        if (obj.Type != old.Type)
        {
            yield return FieldError.Invalid("type", obj.Type, "field is immutable");
        }

        foreach (var error in ConfigKeys.ValidateImmutable(old.Immutable, obj.Immutable, !ModelJson.SameContent(obj.Data, old.Data)))
        {
            yield return error;
        }
    }

    private static IEnumerable<FieldError> ValidateType(V1Secret obj, IDictionary<string, byte[]> data)
    {
        switch (obj.Type)
        {
            case "kubernetes.io/service-account-token":
                if (obj.Metadata.Annotations?.TryGetValue("kubernetes.io/service-account.name", out string? account) != true || string.IsNullOrEmpty(account))
                {
                    yield return FieldError.Required("metadata.annotations[kubernetes.io/service-account.name]");
                }

                break;
            case "kubernetes.io/dockercfg":
                if (JsonKeyError(data, ".dockercfg") is { } dockercfg)
                {
                    yield return dockercfg;
                }

                break;
            case "kubernetes.io/dockerconfigjson":
                if (JsonKeyError(data, ".dockerconfigjson") is { } dockerconfigjson)
                {
                    yield return dockerconfigjson;
                }

                break;
            case "kubernetes.io/basic-auth":
                if (!data.ContainsKey("username") && !data.ContainsKey("password"))
                {
                    yield return FieldError.Required("data[username]");
                    yield return FieldError.Required("data[password]");
                }

                break;
            case "kubernetes.io/ssh-auth":
                if (!data.TryGetValue("ssh-privatekey", out byte[]? key) || key is not { Length: > 0 })
                {
                    yield return FieldError.Required("data[ssh-privatekey]");
                }

                break;
            case "kubernetes.io/tls":
                foreach (string required in (string[])["tls.crt", "tls.key"])
                {
                    if (!data.ContainsKey(required))
                    {
                        yield return FieldError.Required($"data[{required}]");
                    }
                }

                break;
        }
    }

    /// <summary>A docker config type needs its key, holding JSON.</summary>
    private static FieldError? JsonKeyError(IDictionary<string, byte[]> data, string key)
    {
        if (!data.TryGetValue(key, out byte[]? value) || value is not { Length: > 0 })
        {
            return FieldError.Required($"data[{key}]");
        }

        try
        {
            using var _ = JsonDocument.Parse(value);
            return null;
        }
        catch (JsonException e)
        {
            return FieldError.Invalid($"data[{key}]", Redacted, e.Message);
        }
    }
}
