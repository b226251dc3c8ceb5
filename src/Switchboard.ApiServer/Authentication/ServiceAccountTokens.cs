using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchboard.Kube.Serialization;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Authentication;

/// <summary>
/// Service-account JWTs, as kube-apiserver's TokenRequest issues them (KEP-1205 bound tokens): ES256 by a P-256 key
/// of the cluster kept in DATA_DIR/sa.key (0600, made on first start), <c>kid</c> the base64url SHA-256 of the key's
/// DER public key, claims as upstream's (<c>sub</c>, <c>aud</c>, <c>kubernetes.io</c> with the namespace, service
/// account and bound object). It also verifies them (signature, issuer, time with a minute's leeway, audience) and
/// publishes the key as the OIDC discovery documents.
/// </summary>
internal sealed class ServiceAccountTokens : IDisposable
{
    /// <summary>kubeadm's default --service-account-issuer; also the default API audience.</summary>
    public const string DefaultIssuer = "https://kubernetes.default.svc.cluster.local";

    private const string KeyFile = "sa.key";
    private static readonly TimeSpan Leeway = TimeSpan.FromMinutes(1);

    private readonly ECDsa _key;
    private readonly string _header;

    private ServiceAccountTokens(ECDsa key, string issuer)
    {
        _key = key;
        Issuer = issuer;
        KeyId = Base64Url.EncodeToString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        _header = Base64Url.EncodeToString(ModelJson.NodeToUtf8Bytes(new JsonObject { ["alg"] = "ES256", ["kid"] = KeyId }));
    }

    public string Issuer { get; }

    public string KeyId { get; }

    /// <summary>The audiences a token must name one of to authenticate here (kube-apiserver's --api-audiences: the issuer).</summary>
    public IReadOnlyList<string> ApiAudiences => [Issuer];

    /// <summary>The key of the data dir, made on first start.</summary>
    public static ServiceAccountTokens LoadOrCreate(string dataDirectory, string issuer = DefaultIssuer)
    {
        string path = Path.Combine(dataDirectory, KeyFile);
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            key.GenerateKey(ECCurve.NamedCurves.nistP256);
            PrivateFiles.Write(path, key.ExportPkcs8PrivateKeyPem());
        }

        return new ServiceAccountTokens(key, issuer);
    }

    public void Dispose() => _key.Dispose();

    /// <summary>A signed token for <paramref name="claims"/>, valid from <paramref name="now"/> for <paramref name="lifetime"/>.</summary>
    public string Issue(ServiceAccountClaims claims, DateTimeOffset now, TimeSpan lifetime)
    {
        var account = new JsonObject { ["name"] = claims.Name, ["uid"] = claims.Uid };
        var kubernetes = new JsonObject { ["namespace"] = claims.Namespace };
        if (claims.Bound is { } bound)
        {
            kubernetes[bound.Kind.ToLowerInvariant()] = new JsonObject { ["name"] = bound.Name, ["uid"] = bound.Uid };
        }

        kubernetes["serviceaccount"] = account;
        long issued = now.ToUnixTimeSeconds();
        var payload = new JsonObject
        {
            ["aud"] = new JsonArray([.. claims.Audiences.Select(a => (JsonNode)a)]),
            ["exp"] = issued + (long)lifetime.TotalSeconds,
            ["iat"] = issued,
            ["iss"] = Issuer,
            ["jti"] = claims.Id,
            ["kubernetes.io"] = kubernetes,
            ["nbf"] = issued,
            ["sub"] = UserInfo.ServiceAccountUser(claims.Namespace, claims.Name),
        };
        string signed = _header + "." + Base64Url.EncodeToString(ModelJson.NodeToUtf8Bytes(payload));
        byte[] signature = _key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256);
        return signed + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// The claims of a token this cluster signed that is valid at <paramref name="now"/> for the API; null for any other
    /// bearer token (not a JWT, another issuer or key, a bad signature, expired, or meant for another audience).
    /// </summary>
    public ServiceAccountClaims? Verify(string token, DateTimeOffset now)
    {
        string[] parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            if (header.RootElement.ValueKind != JsonValueKind.Object
                || !header.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != "ES256"
                || (header.RootElement.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String && kid.GetString() != KeyId))
            {
                return null;
            }

            if (!_key.VerifyData(Encoding.ASCII.GetBytes(token.AsSpan(0, parts[0].Length + 1 + parts[1].Length).ToString()), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256))
            {
                return null;
            }

            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
            if (payload["iss"]?.GetValue<string>() != Issuer)
            {
                return null;
            }

            long seconds = now.ToUnixTimeSeconds();
            if (payload["exp"]?.GetValue<long>() is not { } exp || seconds > exp + (long)Leeway.TotalSeconds
                || (payload["nbf"]?.GetValue<long>() is { } nbf && seconds < nbf - (long)Leeway.TotalSeconds))
            {
                return null;
            }

            var audiences = payload["aud"] switch
            {
                JsonArray many => many.Select(a => a?.GetValue<string>() ?? "").ToList(),
                JsonValue one => [one.GetValue<string>()],
                _ => [],
            };
            if (!audiences.Intersect(ApiAudiences).Any() || payload["kubernetes.io"] is not JsonObject kubernetes)
            {
                return null;
            }

            BoundObject? bound = null;
            foreach (string kind in (string[])["pod", "secret", "node"])
            {
                if (kubernetes[kind] is JsonObject reference)
                {
                    bound = new BoundObject(kind == "pod" ? "Pod" : kind == "secret" ? "Secret" : "Node", reference["name"]!.GetValue<string>(), reference["uid"]!.GetValue<string>());
                    break;
                }
            }

            return new ServiceAccountClaims(
                kubernetes["namespace"]!.GetValue<string>(),
                kubernetes["serviceaccount"]!["name"]!.GetValue<string>(),
                kubernetes["serviceaccount"]!["uid"]!.GetValue<string>(),
                audiences,
                payload["jti"]?.GetValue<string>() ?? "",
                bound);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or NullReferenceException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary><c>/.well-known/openid-configuration</c>, as kube-apiserver's openidmetadata for an issuer served by itself.</summary>
    public JsonObject OpenIdConfiguration(Uri server) => new()
    {
        ["issuer"] = Issuer,
        ["jwks_uri"] = new Uri(server, "/openid/v1/jwks").AbsoluteUri,
        ["response_types_supported"] = new JsonArray("id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("ES256"),
    };

    /// <summary><c>/openid/v1/jwks</c>: the public key, in JWK form.</summary>
    public JsonObject Jwks()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["use"] = "sig",
                ["kty"] = "EC",
                ["kid"] = KeyId,
                ["crv"] = "P-256",
                ["alg"] = "ES256",
                ["x"] = Base64Url.EncodeToString(parameters.Q.X),
                ["y"] = Base64Url.EncodeToString(parameters.Q.Y),
            }),
        };
    }
}

/// <summary>What a service-account token says: the account, its audiences, its id and the object it is bound to.</summary>
internal sealed record ServiceAccountClaims(string Namespace, string Name, string Uid, IReadOnlyList<string> Audiences, string Id, BoundObject? Bound);

/// <summary>The Pod, Secret or Node a token lives only as long as.</summary>
internal sealed record BoundObject(string Kind, string Name, string Uid);
