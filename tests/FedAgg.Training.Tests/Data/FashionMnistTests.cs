using System.Buffers.Binary;
using System.IO.Compression;
using FedAgg.Training.Data;

namespace FedAgg.Training.Tests.Data;

public sealed class FashionMnistTests
{
    [Fact]
    public void LoadSet_ValidGzipFiles_ParsesPixelsAndLabels()
    {
        using var dir = new TempDirectory();
        var pixels = Pixels(3);
        WriteGzip(dir.File("img.gz"), ImagesFile(3, 28, 28, pixels));
        WriteGzip(dir.File("lbl.gz"), LabelsFile([7, 0, 9]));

        var set = FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz"));

        Assert.Equal(3, set.Count);
        Assert.Equal(784, set.FeatureCount);
        Assert.Equal(new byte[] { 7, 0, 9 }, set.Labels);
        for (var i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(pixels[i] / 255f, set.Features[i]);
        }

        Assert.Equal(0f, set.Features.Min());
        Assert.Equal(1f, set.Features.Max());
        Assert.Equal(pixels[784 + 5] / 255f, set.Row(1)[5]);
    }

    [Fact]
    public async Task LoadSetAsync_UncompressedFiles_ParsesTheSame()
    {
        using var dir = new TempDirectory();
        var pixels = Pixels(2);
        await File.WriteAllBytesAsync(dir.File("img"), ImagesFile(2, 28, 28, pixels));
        await File.WriteAllBytesAsync(dir.File("lbl"), LabelsFile([1, 2]));

        var set = await FashionMnist.LoadSetAsync(dir.File("img"), dir.File("lbl"), CancellationToken.None);

        Assert.Equal(2, set.Count);
        Assert.Equal(pixels.Select(p => p / 255f).ToArray(), set.Features);
    }

    [Fact]
    public void LoadSet_BadImageMagic_ThrowsNamingFileAndMagic()
    {
        using var dir = new TempDirectory();
        var images = ImagesFile(1, 28, 28, Pixels(1));
        images[3] = 0x01; // 0x00000801 is the label magic
        WriteGzip(dir.File("img.gz"), images);
        WriteGzip(dir.File("lbl.gz"), LabelsFile([1]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Equal(dir.File("img.gz"), error.Path);
        Assert.Contains("bad magic number 0x00000801; expected 0x00000803", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsMissing);
    }

    [Fact]
    public void LoadSet_BadLabelMagic_Throws()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(1, 28, 28, Pixels(1)));
        var labels = LabelsFile([1]);
        labels[2] = 0x09;
        WriteGzip(dir.File("lbl.gz"), labels);

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Equal(dir.File("lbl.gz"), error.Path);
        Assert.Contains("bad magic number 0x00000901; expected 0x00000801", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_TruncatedPixels_ThrowsTruncated()
    {
        using var dir = new TempDirectory();
        var images = ImagesFile(2, 28, 28, Pixels(2));
        WriteGzip(dir.File("img.gz"), images.AsSpan(0, images.Length - 10).ToArray());
        WriteGzip(dir.File("lbl.gz"), LabelsFile([1, 2]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("truncated: the header declares 1568 bytes of pixels, the file has 1558", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_TruncatedHeader_ThrowsTruncated()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(1, 28, 28, Pixels(1)));
        WriteGzip(dir.File("lbl.gz"), [0, 0, 8, 1, 0]);

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("truncated: the header needs 8 bytes, the file has 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_CutGzipStream_Throws()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("full.gz"), ImagesFile(20, 28, 28, Pixels(20)));
        var compressed = File.ReadAllBytes(dir.File("full.gz"));
        File.WriteAllBytes(dir.File("img.gz"), compressed.AsSpan(0, compressed.Length / 2).ToArray());
        WriteGzip(dir.File("lbl.gz"), LabelsFile(new byte[20]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Equal(dir.File("img.gz"), error.Path);
    }

    [Fact]
    public void LoadSet_TrailingBytes_Throws()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(1, 28, 28, Pixels(1)));
        WriteGzip(dir.File("lbl.gz"), [.. LabelsFile([4]), 0]);

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("trailing bytes after the 1 bytes of labels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_CountMismatch_ThrowsNamingBothCounts()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(2, 28, 28, Pixels(2)));
        WriteGzip(dir.File("lbl.gz"), LabelsFile([1, 2, 3]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("3 labels for 2 images", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_WrongImageSize_Throws()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(1, 27, 28, new byte[27 * 28]));
        WriteGzip(dir.File("lbl.gz"), LabelsFile([1]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("images are 27×28", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_HugeDeclaredCount_ThrowsBeforeAllocating()
    {
        using var dir = new TempDirectory();
        var header = ImagesFile(0, 28, 28, []);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), int.MaxValue);
        WriteGzip(dir.File("img.gz"), header);
        WriteGzip(dir.File("lbl.gz"), LabelsFile([]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("declares 2147483647 images; allowed 0 … 10000000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_LabelAboveNine_Throws()
    {
        using var dir = new TempDirectory();
        WriteGzip(dir.File("img.gz"), ImagesFile(2, 28, 28, Pixels(2)));
        WriteGzip(dir.File("lbl.gz"), LabelsFile([1, 10]));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.Contains("label 10 at index 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadSet_MissingFile_ThrowsMissingWithInstallHint()
    {
        using var dir = new TempDirectory();

        var error = Assert.Throws<DatasetException>(() => FashionMnist.LoadSet(dir.File("img.gz"), dir.File("lbl.gz")));

        Assert.True(error.IsMissing);
        Assert.Contains("install with `apt-get install dataset-fashion-mnist` (or pass --data-dir)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_MissingDirectory_MessageSaysExactlyHowToInstall()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fedagg-no-such-dir-" + Guid.NewGuid().ToString("N"));

        var error = await Assert.ThrowsAsync<DatasetException>(() => FashionMnist.LoadAsync(missing, CancellationToken.None));

        Assert.True(error.IsMissing);
        Assert.Equal(
            $"Fashion-MNIST directory not found: {missing}; install with `apt-get install dataset-fashion-mnist` (or pass --data-dir).", error.Message);
    }

    [Fact]
    public void Load_InstalledFiles_HavePublishedCountsAndClassBalance()
    {
        var data = RealData.TryLoad();
        if (data is null)
        {
            return; // dataset-fashion-mnist is not installed here; the synthetic tests above cover the parser.
        }

        Assert.Equal(60_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal(784, data.Train.FeatureCount);

        // Published facts about Fashion-MNIST: 6,000 training and 1,000 test images per class.
        Assert.All(data.Train.ClassHistogram(10), count => Assert.Equal(6_000, count));
        Assert.All(data.Test.ClassHistogram(10), count => Assert.Equal(1_000, count));
        Assert.Equal(0f, data.Train.Features.Min());
        Assert.Equal(1f, data.Train.Features.Max());
    }

    private static byte[] Pixels(int count)
    {
        var pixels = new byte[count * 784];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 37) + (i / 784));
        }

        pixels[0] = 0;
        pixels[1] = 255;
        return pixels;
    }

    private static byte[] ImagesFile(int count, int rows, int columns, byte[] pixels)
    {
        var file = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(file, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(12), columns);
        pixels.CopyTo(file, 16);
        return file;
    }

    private static byte[] LabelsFile(byte[] labels)
    {
        var file = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(file, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), labels.Length);
        labels.CopyTo(file, 8);
        return file;
    }

    private static void WriteGzip(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }
}
