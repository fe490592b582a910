using FedAgg.Core.Identity;

namespace FedAgg.Core.Tests.Identity;

public sealed class KeyFileTests
{
    [Fact]
    public void Write_ThenLoad_SameIdentityOwnerOnlyNoWarning()
    {
        using var directory = new TempDirectory();
        var path = directory.File("id.key");
        using var key = Ed25519PrivateKey.Generate();

        KeyFile.Write(path, key);
        using var loaded = KeyFile.Load(path, out var warning);

        Assert.Equal(key.PeerId, loaded.PeerId);
        Assert.Null(warning);
        Assert.Equal(key.ToProtobuf(), File.ReadAllBytes(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Single(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public void Write_ExistingFile_RefusesAndKeepsIt()
    {
        using var directory = new TempDirectory();
        var path = directory.File("id.key");
        using var first = Ed25519PrivateKey.Generate();
        using var second = Ed25519PrivateKey.Generate();
        KeyFile.Write(path, first);

        var error = Assert.Throws<KeyFileException>(() => KeyFile.Write(path, second));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        using var loaded = KeyFile.Load(path, out _);
        Assert.Equal(first.PeerId, loaded.PeerId);
    }

    [Fact]
    public void Load_Missing_ClearErrorAndNoFileCreated()
    {
        using var directory = new TempDirectory();
        var path = directory.File("missing.key");

        var error = Assert.Throws<KeyFileException>(() => KeyFile.Load(path, out _));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("fedagg keygen --out", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x08, 0x01, 0x12 })]
    [InlineData(new byte[] { 0x01, 0x02, 0x03, 0x04, 0x05 })]
    public void Load_Corrupt_ClearErrorWithoutKeyMaterial(byte[] content)
    {
        using var directory = new TempDirectory();
        var path = directory.File("bad.key");
        File.WriteAllBytes(path, content);

        var error = Assert.Throws<KeyFileException>(() => KeyFile.Load(path, out _));

        Assert.Contains("not a usable identity key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TamperedKey_ErrorDoesNotLeakSeed()
    {
        using var directory = new TempDirectory();
        var path = directory.File("id.key");
        using var key = Ed25519PrivateKey.Generate();
        KeyFile.Write(path, key);
        var bytes = File.ReadAllBytes(path);
        var seedHex = Convert.ToHexString(bytes.AsSpan(4, 32));
        bytes[^1] ^= 0xFF;
        File.Delete(path);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<KeyFileException>(() => KeyFile.Load(path, out _));

        Assert.DoesNotContain(seedHex, error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_Oversized_Refused()
    {
        using var directory = new TempDirectory();
        var path = directory.File("huge.key");
        File.WriteAllBytes(path, new byte[KeyFile.MaxFileLength + 1]);

        var error = Assert.Throws<KeyFileException>(() => KeyFile.Load(path, out _));
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ReadableByOthers_WarnsButLoads()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var directory = new TempDirectory();
        var path = directory.File("id.key");
        using var key = Ed25519PrivateKey.Generate();
        KeyFile.Write(path, key);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using var loaded = KeyFile.Load(path, out var warning);

        Assert.Equal(key.PeerId, loaded.PeerId);
        Assert.NotNull(warning);
        Assert.Contains("644", warning, StringComparison.Ordinal);
        Assert.Contains("chmod 600", warning, StringComparison.Ordinal);
    }
}
