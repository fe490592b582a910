using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FedAgg.Cli.Tests.Support;

/// <summary>
/// An output file read byte by byte, without FedAgg.Core, so that the hash and the values the tests compare against
/// do not share code with what the CLI wrote.
/// </summary>
internal sealed record NpyOutput(string Header, byte[] DataBytes, float[] Values)
{
    public static NpyOutput Read(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length >= 10 && bytes[0] == 0x93 && Encoding.ASCII.GetString(bytes, 1, 5) == "NUMPY", $"{path} does not start with the .npy magic");
        var major = bytes[6];
        var (headerLength, headerStart) = major == 1
            ? (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)), 10)
            : ((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), 12);
        var header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        var data = bytes[(headerStart + headerLength)..];
        Assert.True(data.Length % 4 == 0, $"{path}: {data.Length} data bytes is not a whole number of float32 values");
        var values = new float[data.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i));
        }

        Assert.Contains("'descr': '<f4'", header, StringComparison.Ordinal);
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        Assert.Contains($"'shape': ({values.Length},)", header, StringComparison.Ordinal);
        Assert.True((headerStart + headerLength) % 64 == 0, $"{path}: the data starts at {headerStart + headerLength}, not on a 64-byte boundary");
        return new NpyOutput(header, data, values);
    }

    /// <summary>"0x" + lowercase hex SHA-256 of the file's float32 little-endian data bytes.</summary>
    public string Sha256 => Hash(DataBytes);

    /// <summary>The same hash over values held in memory (the reference's output).</summary>
    public static string Sha256Of(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return Hash(bytes);
    }

    private static string Hash(byte[] bytes) => "0x" + Convert.ToHexStringLower(SHA256.HashData(bytes));
}
