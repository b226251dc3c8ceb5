using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Switchboard.ApiServer.Security;

/// <summary>
/// The cluster CA, the API server's serving certificate and the admin bearer token: generated into the data
/// dir on first start and reused afterwards, so kubeconfigs written earlier stay valid.
/// </summary>
internal sealed class ClusterCredentials
{
    /// <summary>The CA certificate's file in the data directory (clients of the cluster's servers trust it).</summary>
    internal const string CaCertFile = "ca.crt";
    private const string CaKeyFile = "ca.key";
    private const string ServingCertFile = "apiserver.crt";
    private const string ServingKeyFile = "apiserver.key";
    private const string TokenFile = "admin.token";

    private ClusterCredentials(X509Certificate2 ca, X509Certificate2 serving, string token)
    {
        CertificateAuthority = ca;
        ServingCertificate = serving;
        AdminToken = token;
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 CertificateAuthority { get; }

    /// <summary>The serving certificate with its private key, signed by the CA.</summary>
    public X509Certificate2 ServingCertificate { get; }

    public string AdminToken { get; }

    public static ClusterCredentials LoadOrCreate(string dataDirectory, TimeProvider time)
    {
        Directory.CreateDirectory(dataDirectory);
        string Path(string file) => System.IO.Path.Combine(dataDirectory, file);

        if (!File.Exists(Path(CaCertFile)) || !File.Exists(Path(CaKeyFile)))
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var ca = CreateCa(caKey, time.GetUtcNow());
            WritePrivate(Path(CaKeyFile), caKey.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path(CaCertFile), ca.ExportCertificatePem());
            File.Delete(Path(ServingCertFile));
        }

        using var caWithKey = X509Certificate2.CreateFromPemFile(Path(CaCertFile), Path(CaKeyFile));
        if (!File.Exists(Path(ServingCertFile)) || !File.Exists(Path(ServingKeyFile)))
        {
            using var servingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var serving = CreateServing(caWithKey, servingKey, time.GetUtcNow());
            WritePrivate(Path(ServingKeyFile), servingKey.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path(ServingCertFile), serving.ExportCertificatePem());
        }

        if (!File.Exists(Path(TokenFile)))
        {
            WritePrivate(Path(TokenFile), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }

        var caPublic = X509CertificateLoader.LoadCertificateFromFile(Path(CaCertFile));
        var servingWithKey = X509Certificate2.CreateFromPemFile(Path(ServingCertFile), Path(ServingKeyFile));
        return new ClusterCredentials(caPublic, servingWithKey, File.ReadAllText(Path(TokenFile)).Trim());
    }

    /// <summary>Constant-time check of a presented bearer token.</summary>
    public bool IsAdminToken(ReadOnlySpan<char> token)
    {
        byte[] expected = Encoding.UTF8.GetBytes(AdminToken);
        byte[] presented = Encoding.UTF8.GetBytes(token.ToArray());
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    private static X509Certificate2 CreateCa(ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest("CN=switchboard-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }

    /// <summary>
    /// A certificate signed by the cluster CA in <paramref name="dataDirectory"/> (created first if missing): for a
    /// server (<paramref name="names"/> its subject alternative names) or, without names, for a client; an
    /// <paramref name="organization"/> is what Kubernetes reads as the client's group.
    /// </summary>
    internal static X509Certificate2 Issue(string dataDirectory, TimeProvider time, string commonName, string? organization, SubjectAlternativeNameBuilder? names)
    {
        LoadOrCreate(dataDirectory, time);
        using var ca = X509Certificate2.CreateFromPemFile(System.IO.Path.Combine(dataDirectory, CaCertFile), System.IO.Path.Combine(dataDirectory, CaKeyFile));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string subject = "CN=" + commonName + (organization is null ? "" : ", O=" + organization);
        return Sign(ca, key, subject, names, time.GetUtcNow());
    }

    private static X509Certificate2 CreateServing(X509Certificate2 ca, ECDsa key, DateTimeOffset now)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName("kubernetes");
        names.AddDnsName("kubernetes.default");
        names.AddDnsName("kubernetes.default.svc");
        return Sign(ca, key, "CN=switchboard-apiserver", names, now);
    }

    /// <summary>A leaf certificate with its private key: serverAuth with <paramref name="names"/>, clientAuth without.</summary>
    private static X509Certificate2 Sign(X509Certificate2 ca, ECDsa key, string subject, SubjectAlternativeNameBuilder? names, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (names is not null)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(names is null ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var notAfter = new DateTimeOffset(ca.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        using var signed = request.Create(ca, now.AddMinutes(-5), notAfter < now.AddYears(5) ? notAfter : now.AddYears(5), serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Writes a private key file, readable by its owner only.</summary>
    internal static void WritePrivate(string path, string content)
    {
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
