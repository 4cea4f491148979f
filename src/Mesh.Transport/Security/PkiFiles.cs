using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.Transport.Security;

/// <summary>A PKI file could not be written or read; the message names the file and what to do.</summary>
public sealed class PkiFileException(string message) : Exception(message);

/// <summary>
/// Writing and reading the PKI's files safely: keys owner-only (0600) from the first byte, never written
/// through a symbolic link or over a file that is already there (unless forced, and then the old file or
/// link is replaced, never followed), and the CA key optionally encrypted with a passphrase.
/// </summary>
public static class PkiFiles
{
    /// <summary>Writes NAME.crt (public) and NAME.key (owner-only) into <paramref name="dir"/>.</summary>
    /// <param name="force">replace files (or links) already there; without it they are an error</param>
    /// <param name="passphrase">encrypt the key with it (PKCS#8, AES-256, PBKDF2)</param>
    public static (string CertPath, string KeyPath) Write(string dir, string baseName, X509Certificate2 cert, ECDsa key, bool force,
        string? passphrase = null)
    {
        Directory.CreateDirectory(dir);
        var certPath = Path.Combine(dir, baseName + ".crt");
        var keyPath = Path.Combine(dir, baseName + ".key");
        foreach (var path in new[] { certPath, keyPath }) Clear(path, force);
        var keyPem = passphrase is null ? key.ExportPkcs8PrivateKeyPem()
            : key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));
        WriteNew(keyPath, keyPem + "\n", secret: true);
        WriteNew(certPath, cert.ExportCertificatePem() + "\n", secret: false);
        return (certPath, keyPath);
    }

    /// <summary>
    /// A path about to be written must not exist; with <paramref name="force"/> whatever is there is
    /// removed first (a symbolic link itself, not its target).
    /// </summary>
    private static void Clear(string path, bool force)
    {
        var info = new FileInfo(path);
        var isLink = info.LinkTarget is not null;
        if (!info.Exists && !isLink) return;
        if (!force)
            throw new PkiFileException(isLink
                ? $"{path} is a symbolic link (to {info.LinkTarget}); refusing to write through it (use --force to replace the link with a file)"
                : $"{path} exists already; refusing to overwrite it (use --force to replace it)");
        File.Delete(path);   // unlinks a symbolic link, never its target
    }

    /// <summary>Creates the file (O_CREAT|O_EXCL: never follows a link planted since the check), owner-only if secret.</summary>
    private static void WriteNew(string path, string text, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        try
        {
            using var f = new FileStream(path, options);
            f.Write(Encoding.ASCII.GetBytes(text));
        }
        catch (IOException e) { throw new PkiFileException($"cannot create {path}: {e.Message}"); }
    }

    /// <summary>True when the CA key in <paramref name="dir"/> is encrypted (it needs a passphrase).</summary>
    public static bool CaKeyIsEncrypted(string dir) =>
        File.ReadAllText(Path.Combine(dir, MeshPki.CaKeyFile)).Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal);

    /// <summary>Loads the CA; <paramref name="passphrase"/> is asked for only when the key is encrypted.</summary>
    public static (X509Certificate2 Cert, ECDsa Key) LoadCa(string dir, Func<string>? passphrase = null)
    {
        var certPath = Path.Combine(dir, MeshPki.CaCertFile);
        var keyPath = Path.Combine(dir, MeshPki.CaKeyFile);
        X509Certificate2 cert;
        try { cert = X509Certificate2.CreateFromPem(File.ReadAllText(certPath)); }
        catch (Exception e) when (e is CryptographicException or IOException) { throw new PkiFileException($"cannot read {certPath}: {e.Message}"); }
        var pem = File.ReadAllText(keyPath);
        var key = ECDsa.Create();
        try
        {
            if (pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
            {
                if (passphrase is null) throw new PkiFileException($"{keyPath} is encrypted: give its passphrase (MESH_CA_PASSPHRASE, or at the prompt)");
                key.ImportFromEncryptedPem(pem, passphrase());
            }
            else key.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new PkiFileException(pem.Contains("ENCRYPTED", StringComparison.Ordinal)
                ? $"cannot decrypt {keyPath}: wrong passphrase ({e.Message})" : $"cannot read {keyPath}: {e.Message}");
        }
        return (cert, key);
    }
}
