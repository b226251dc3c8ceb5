using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchboard.Storage;

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

    /// <summary>The shortest admin token accepted from the token file (a generated one has 64 hex digits).</summary>
    internal const int MinimumTokenLength = 32;

    /// <summary>A certificate with less than this left is issued again at start, before clients start failing on it.</summary>
    internal static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

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

    /// <summary>
    /// The credentials of the data dir, made on first start. At every start the CA and the serving certificate are issued
    /// again when they near their end (the CA with its own key, so what it signed stays valid), and the serving
    /// certificate when it does not name each of <paramref name="servingAddresses"/>.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The data dir is another user's, or others may write in it.</exception>
    /// <exception cref="InvalidOperationException">The token file holds a token too short to be a secret.</exception>
    public static ClusterCredentials LoadOrCreate(string dataDirectory, TimeProvider time, IReadOnlyCollection<IPAddress> servingAddresses)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(servingAddresses);
        string Path(string file) => System.IO.Path.Combine(dataDirectory, file);
        var now = time.GetUtcNow();
        using (var ca = EnsureCa(dataDirectory, now))
        {
            if (!IsCurrent(Path(ServingCertFile), Path(ServingKeyFile), Path(CaCertFile), now) || !Names(Path(ServingCertFile), servingAddresses))
            {
                using var servingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                using var serving = CreateServing(ca, servingKey, servingAddresses, now);
                PrivateFiles.Write(Path(ServingKeyFile), servingKey.ExportPkcs8PrivateKeyPem());
                PrivateFiles.Write(Path(ServingCertFile), serving.ExportCertificatePem());
            }
        }

        if (!File.Exists(Path(TokenFile)))
        {
            PrivateFiles.Write(Path(TokenFile), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }

        string token = File.ReadAllText(Path(TokenFile)).Trim();
        if (token.Length < MinimumTokenLength)
        {
            throw new InvalidOperationException(
                $"{Path(TokenFile)} holds a token of {token.Length} characters; one shorter than {MinimumTokenLength} is refused, as it could be guessed: remove the file to have a new token made");
        }

        var caPublic = X509CertificateLoader.LoadCertificateFromFile(Path(CaCertFile));
        var servingWithKey = X509Certificate2.CreateFromPemFile(Path(ServingCertFile), Path(ServingKeyFile));
        return new ClusterCredentials(caPublic, servingWithKey, token);
    }

    /// <summary>Constant-time check of a presented bearer token.</summary>
    public bool IsAdminToken(ReadOnlySpan<char> token)
    {
        // An empty or blank token (U+00A0 and the other Unicode spaces too) is nobody's, whatever the token file holds.
        if (token.IsWhiteSpace())
        {
            return false;
        }

        byte[] expected = Encoding.UTF8.GetBytes(AdminToken);
        byte[] presented = Encoding.UTF8.GetBytes(token.ToArray());
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    /// <summary>
    /// The CA with its key, made on first use; issued again with the same key when it nears its end or predates the
    /// path length of 0 (it signs leaves only, never another CA).
    /// </summary>
    private static X509Certificate2 EnsureCa(string dataDirectory, DateTimeOffset now)
    {
        PrivateFiles.EnsureDirectory(dataDirectory);
        string certificateFile = System.IO.Path.Combine(dataDirectory, CaCertFile);
        string keyFile = System.IO.Path.Combine(dataDirectory, CaKeyFile);
        if (!File.Exists(certificateFile) || !File.Exists(keyFile))
        {
            using var newKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            PrivateFiles.Write(keyFile, newKey.ExportPkcs8PrivateKeyPem());
            using var created = CreateCa(newKey, now);
            PrivateFiles.Write(certificateFile, created.ExportCertificatePem());
        }

        var ca = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        bool leavesOnly = ca.Extensions.OfType<X509BasicConstraintsExtension>().Any(c => c.HasPathLengthConstraint && c.PathLengthConstraint == 0);
        if (leavesOnly && ca.NotAfter.ToUniversalTime() - now.UtcDateTime >= RenewBefore)
        {
            return ca;
        }

        using (ca)
        using (var key = ca.GetECDsaPrivateKey()!)
        using (var renewed = CreateCa(key, now))
        {
            PrivateFiles.Write(certificateFile, renewed.ExportCertificatePem());
        }

        return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
    }

    private static X509Certificate2 CreateCa(ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest("CN=switchboard-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }

    /// <summary>
    /// Whether the files hold a certificate with its key that chains to the CA (a data dir recreated meanwhile has a
    /// new one) and stays valid for <see cref="RenewBefore"/>.
    /// </summary>
    internal static bool IsCurrent(string certificateFile, string keyFile, string caFile, DateTimeOffset now)
    {
        if (!File.Exists(certificateFile) || !File.Exists(keyFile) || !File.Exists(caFile))
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = (now + RenewBefore).UtcDateTime;
        return chain.Build(certificate);
    }

    /// <summary>Whether the certificate in the file names every one of <paramref name="addresses"/>.</summary>
    internal static bool Names(string certificateFile, IEnumerable<IPAddress> addresses)
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        return addresses.All(a => certificate.MatchesHostname(a.ToString()));
    }

    /// <summary>
    /// A certificate signed by the cluster CA in <paramref name="dataDirectory"/> (created first if missing): for a
    /// server (<paramref name="names"/> its subject alternative names) or, without names, for a client; an
    /// <paramref name="organization"/> is what Kubernetes reads as the client's group.
    /// </summary>
    internal static X509Certificate2 Issue(string dataDirectory, TimeProvider time, string commonName, string? organization, SubjectAlternativeNameBuilder? names)
    {
        ArgumentNullException.ThrowIfNull(time);
        using var ca = EnsureCa(dataDirectory, time.GetUtcNow());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string subject = "CN=" + commonName + (organization is null ? "" : ", O=" + organization);
        return Sign(ca, key, subject, names, time.GetUtcNow());
    }

    /// <summary>The API server's certificate: the addresses it listens on, and the names clients in and out of the cluster use.</summary>
    private static X509Certificate2 CreateServing(X509Certificate2 ca, ECDsa key, IEnumerable<IPAddress> addresses, DateTimeOffset now)
    {
        var names = new SubjectAlternativeNameBuilder();
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

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
}
