using System.Buffers.Binary;
using System.Text;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Aggregation;

namespace FedAgg.Cli.Tests.Support;

/// <summary>Seeded updates written as .npy inputs for the CLI.</summary>
internal static class UpdateFiles
{
    /// <summary>
    /// Names in the order they are created; their ordinal order (digits &lt; upper case &lt; '_' &lt; lower case) is
    /// different, so a CLI that took creation order, or a case-insensitive order, would index the updates wrongly.
    /// </summary>
    private static readonly string[] CreationOrder =
        ["b", "a", "A", "d", "C", "c", "B", "e", "D", "10", "9", "Z", "z", "_", "f", "E"];

    /// <summary>n updates of length d: honest ones plus one huge, two sign-flipped and one duplicate, at seeded positions.</summary>
    public static float[][] Mixed(ulong seed, int n, int d) =>
        [.. UpdateGenerator.Generate(seed, new UpdatePlan(n, d) { Huge = 1, SignFlipped = 2, Duplicates = 1 }).Updates];

    /// <summary>n updates of length d that float16 can hold (no huge ones, which would overflow to ±Inf): honest and one sign-flipped.</summary>
    public static float[][] FitFloat16(ulong seed, int n, int d) =>
        [.. UpdateGenerator.Generate(seed, new UpdatePlan(n, d) { SignFlipped = 1 }).Updates];

    /// <summary>
    /// Writes update i to a file whose name sorts after update i+1's (so argument order, not name order, is what
    /// indexes them) and returns the paths in index order.
    /// </summary>
    public static string[] WriteFiles(string directory, IReadOnlyList<float[]> updates)
    {
        var paths = new string[updates.Count];
        for (var i = 0; i < updates.Count; i++)
        {
            paths[i] = Path.Combine(directory, $"u{updates.Count - i:D2}.npy");
            NpyFile.WriteFloat32(paths[i], updates[i]);
        }

        return paths;
    }

    /// <summary>
    /// Writes the updates into <paramref name="directory"/> so that ordinal file-name order is index order, creating
    /// the files in another order. Returns the paths in index order (as the CLI reports them for that directory).
    /// </summary>
    public static string[] WriteDirectory(string directory, IReadOnlyList<float[]> updates)
    {
        Assert.True(updates.Count <= CreationOrder.Length, $"at most {CreationOrder.Length} updates per directory");
        var created = CreationOrder[..updates.Count];
        var indexOrder = created.Order(StringComparer.Ordinal).ToArray();
        Assert.False(created.SequenceEqual(indexOrder), "creation order must differ from ordinal order");
        foreach (var name in created)
        {
            var index = Array.IndexOf(indexOrder, name);
            NpyFile.WriteFloat32(Path.Combine(directory, name + ".npy"), updates[index]);
        }

        return [.. indexOrder.Select(name => Path.Combine(directory, name + ".npy"))];
    }

    /// <summary>A .npy file with any descr and shape (for dtypes that FedAgg.Core will not write).</summary>
    public static void WriteRaw(string path, string descr, string shape, byte[] data)
    {
        var dictionary = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + dictionary.Length + 1;
        var padded = dictionary + new string(' ', ((total + 63) / 64 * 64) - total) + "\n";
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)padded.Length);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(padded));
        stream.Write(data);
    }
}
