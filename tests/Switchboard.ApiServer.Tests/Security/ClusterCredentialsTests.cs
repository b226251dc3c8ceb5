using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Security;
using Switchboard.Storage;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Security;

public sealed class ClusterCredentialsTests : IDisposable
{
    private static readonly IPAddress[] Loopback = [IPAddress.Loopback];
    private readonly TempDirectory _dir = new("sb-creds-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void First_start_generates_a_ca_signed_serving_certificate_for_loopback()
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(credentials.CertificateAuthority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(credentials.ServingCertificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(credentials.ServingCertificate.HasPrivateKey);
        Assert.True(credentials.ServingCertificate.MatchesHostname("127.0.0.1"));
        Assert.True(credentials.ServingCertificate.MatchesHostname("localhost"));
        Assert.Equal(64, credentials.AdminToken.Length);
    }

    [Fact]
    public void Later_starts_reuse_the_ca_certificate_and_token()
    {
        var first = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);
        var second = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);

        Assert.Equal(first.CertificateAuthority.Thumbprint, second.CertificateAuthority.Thumbprint);
        Assert.Equal(first.ServingCertificate.Thumbprint, second.ServingCertificate.Thumbprint);
        Assert.Equal(first.AdminToken, second.AdminToken);
        Assert.True(second.IsAdminToken(first.AdminToken));
        Assert.False(second.IsAdminToken("wrong"));
    }

    [Fact]
    public void Kubeconfig_holds_server_ca_data_and_token()
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);

        string path = Kubeconfig.Write(_dir.Path, new Uri("https://127.0.0.1:6443"), credentials);

        string text = File.ReadAllText(path);
        Assert.Contains("server: https://127.0.0.1:6443", text, StringComparison.Ordinal);
        Assert.Contains("token: " + credentials.AdminToken, text, StringComparison.Ordinal);
        string caLine = text.Split('\n').Single(l => l.Contains("certificate-authority-data:", StringComparison.Ordinal));
        string pem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(caLine.Split(':')[1].Trim()));
        Assert.Equal(credentials.CertificateAuthority.Thumbprint, X509Certificate2.CreateFromPem(pem).Thumbprint);
    }

    [Fact]
    public void The_ca_signs_leaves_only_with_a_path_length_of_0()
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);

        var constraints = credentials.CertificateAuthority.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.HasPathLengthConstraint);
        Assert.Equal(0, constraints.PathLengthConstraint);
    }

    [Fact]
    public void A_serving_certificate_missing_a_listened_address_is_issued_again_naming_it()
    {
        var first = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);
        var second = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, [IPAddress.Parse("127.0.0.2")]);

        Assert.False(first.ServingCertificate.MatchesHostname("127.0.0.2"));
        Assert.True(second.ServingCertificate.MatchesHostname("127.0.0.2"));
        Assert.Equal(first.CertificateAuthority.Thumbprint, second.CertificateAuthority.Thumbprint);
    }

    [Fact]
    public void Certificates_near_their_end_are_issued_again_at_start_and_the_ca_keeps_its_key()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = ClusterCredentials.LoadOrCreate(_dir.Path, time, Loopback);

        // Ten days before the serving certificate ends: a new one; the CA has years left and stays.
        time.SetUtcNow(new DateTimeOffset(first.ServingCertificate.NotAfter.ToUniversalTime(), TimeSpan.Zero).AddDays(-10));
        var servingRenewed = ClusterCredentials.LoadOrCreate(_dir.Path, time, Loopback);
        Assert.NotEqual(first.ServingCertificate.Thumbprint, servingRenewed.ServingCertificate.Thumbprint);
        Assert.Equal(first.CertificateAuthority.Thumbprint, servingRenewed.CertificateAuthority.Thumbprint);
        Assert.True(servingRenewed.ServingCertificate.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddDays(30));

        // Ten days before the CA ends: the CA again, with the same key, so what it signed before still chains to it.
        time.SetUtcNow(new DateTimeOffset(first.CertificateAuthority.NotAfter.ToUniversalTime(), TimeSpan.Zero).AddDays(-10));
        var caRenewed = ClusterCredentials.LoadOrCreate(_dir.Path, time, Loopback);
        Assert.NotEqual(first.CertificateAuthority.Thumbprint, caRenewed.CertificateAuthority.Thumbprint);
        Assert.Equal(first.CertificateAuthority.PublicKey.EncodedKeyValue.RawData, caRenewed.CertificateAuthority.PublicKey.EncodedKeyValue.RawData);
        Assert.True(caRenewed.CertificateAuthority.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddYears(1));
        Assert.True(Chains(caRenewed.ServingCertificate, caRenewed.CertificateAuthority, time.GetUtcNow()));
        Assert.Equal(first.CertificateAuthority.SubjectName.Name, caRenewed.CertificateAuthority.SubjectName.Name);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("\u00a0\u00a0\u00a0")]
    public void A_token_file_shorter_than_32_characters_is_refused_at_start(string token)
    {
        File.WriteAllText(_dir.File("admin.token"), token);

        var error = Assert.Throws<InvalidOperationException>(() => ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback));
        Assert.Contains("admin.token", error.Message, StringComparison.Ordinal);
        Assert.Contains("shorter than 32", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\u00a0")]
    [InlineData("\u00a0\u2003\t")]
    public void Empty_and_blank_presented_tokens_are_refused(string presented)
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);

        Assert.False(credentials.IsAdminToken(presented));
        Assert.True(credentials.IsAdminToken(credentials.AdminToken));
    }

    [Fact]
    public void Secrets_are_owner_only_and_a_new_data_dir_is_0700()
    {
        string dataDir = _dir.File("new/data");
        var credentials = ClusterCredentials.LoadOrCreate(dataDir, TimeProvider.System, Loopback);
        Kubeconfig.Write(dataDir, new Uri("https://127.0.0.1:6443"), credentials);

        Assert.Equal(PrivateFiles.DirectoryMode, new DirectoryInfo(dataDir).UnixFileMode);
        string[] files = [.. Directory.EnumerateFiles(dataDir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(["admin.token", "apiserver.crt", "apiserver.key", "ca.crt", "ca.key", "kubeconfig"], files);
        Assert.All(files, f => Assert.Equal(PrivateFiles.FileMode, new FileInfo(Path.Combine(dataDir, f)).UnixFileMode));
    }

    [Fact]
    public async Task A_data_dir_writable_by_others_is_refused_with_the_reason()
    {
        (await ChildProcess.RunAsync("chmod", ["0777", _dir.Path])).EnsureSuccess("chmod");

        var error = Assert.Throws<UnsafeDirectoryException>(() => ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback));
        Assert.Contains("mode 0777, writable by others", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }

    [Fact]
    public async Task A_data_dir_of_another_user_is_refused_with_the_reason()
    {
        (await ChildProcess.RunAsync("chown", ["65534:65534", _dir.Path])).EnsureSuccess("chown");

        var error = Assert.Throws<UnsafeDirectoryException>(() => ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback));
        Assert.Contains("owned by uid 65534, not by the user running switchboard (uid 0)", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void Planted_symlinks_are_replaced_never_followed()
    {
        using var elsewhere = new TempDirectory("sb-victim-");
        string victim = elsewhere.File("victim");
        File.WriteAllText(victim, "precious");
        File.CreateSymbolicLink(_dir.File("kubeconfig.tmp"), victim);
        File.CreateSymbolicLink(_dir.File("ca.key"), elsewhere.File("created-through-a-link"));

        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System, Loopback);
        Kubeconfig.Write(_dir.Path, new Uri("https://127.0.0.1:6443"), credentials);

        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.False(File.Exists(elsewhere.File("created-through-a-link")));
        Assert.Null(new FileInfo(_dir.File("ca.key")).LinkTarget);
        Assert.False(File.Exists(_dir.File("kubeconfig.tmp")) || new FileInfo(_dir.File("kubeconfig.tmp")).LinkTarget is not null);
        Assert.Contains("token: " + credentials.AdminToken, File.ReadAllText(_dir.File("kubeconfig")), StringComparison.Ordinal);
    }

    private static bool Chains(X509Certificate2 leaf, X509Certificate2 ca, DateTimeOffset at)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        return chain.Build(leaf);
    }
}
