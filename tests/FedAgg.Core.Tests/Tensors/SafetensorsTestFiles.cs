using System.Text;

namespace FedAgg.Core.Tests.Tensors;

/// <summary>safetensors bytes assembled by hand from the specification, independent of <c>SafetensorsWriter</c>.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>8-byte little-endian header length, the UTF-8 JSON header (space-padded to <paramref name="padTo"/>), then <paramref name="data"/>.</summary>
    public static byte[] Build(string json, byte[] data, int padTo = 8, long? headerLengthOverride = null) =>
        BuildRaw(Encoding.UTF8.GetBytes(json), data, padTo, headerLengthOverride);

    /// <summary>As <see cref="Build"/>, with the header given as raw bytes.</summary>
    public static byte[] BuildRaw(byte[] json, byte[] data, int padTo = 8, long? headerLengthOverride = null)
    {
        var headerBytes = new List<byte>(json);
        while (headerBytes.Count % padTo != 0)
        {
            headerBytes.Add((byte)' ');
        }

        var length = headerLengthOverride ?? headerBytes.Count;
        var bytes = new List<byte>();
        for (var i = 0; i < 8; i++)
        {
            bytes.Add((byte)(length >> (8 * i)));
        }

        bytes.AddRange(headerBytes);
        bytes.AddRange(data);
        return [.. bytes];
    }
}
