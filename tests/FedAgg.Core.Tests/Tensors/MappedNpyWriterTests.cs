using FedAgg.Core.Tensors;

namespace FedAgg.Core.Tests.Tensors;

public sealed class MappedNpyWriterTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Create_NewFile_IsZeroFilledOneDimensionalFloat32()
    {
        var path = _directory.File("w.npy");

        using (var writer = MappedNpyWriter.Create(path, 5))
        {
            var values = new float[5];
            values.AsSpan().Fill(9f);
            writer.Read(0, values);
            Assert.Equal(new float[5], values);
            Assert.Equal(5, writer.Length);
        }

        using var array = MappedNpyArray.Open(path);
        Assert.Equal([5L], array.Header.Shape);
        Assert.Equal(TensorDType.Float32, array.Header.DType);
        Assert.Equal(NpyHeader.Build(TensorDType.Float32, [5]), File.ReadAllBytes(path)[..(int)array.Header.DataOffset]);
    }

    [Fact]
    public void Write_ThenFlush_VisibleToReaders()
    {
        var path = _directory.File("w.npy");
        using var writer = MappedNpyWriter.Create(path, 10);

        writer.Write(2, [1f, 2f, 3f]);
        writer.Write(9, [-1f]);
        writer.Flush();
        var back = new float[4];
        writer.Read(2, back);

        Assert.Equal([1f, 2f, 3f, 0f], back);
        Assert.Equal([0f, 0f, 1f, 2f, 3f, 0f, 0f, 0f, 0f, -1f], NpyFile.ReadFloat32(path));
    }

    [Fact]
    public void Create_ZeroLength_ProducesValidEmptyArray()
    {
        var path = _directory.File("empty.npy");

        using (var writer = MappedNpyWriter.Create(path, 0))
        {
            writer.Write(0, ReadOnlySpan<float>.Empty);
            writer.Flush();
        }

        using var array = MappedNpyArray.Open(path);
        Assert.Equal(0, array.Length);
        Assert.Equal([0L], array.Header.Shape);
        Assert.Empty(NpyFile.ReadFloat32(path));
    }

    [Fact]
    public void Create_ExistingLongerFile_IsReplaced()
    {
        var path = _directory.File("w.npy");
        NpyFile.WriteFloat32(path, new float[1000]);

        using (MappedNpyWriter.Create(path, 3))
        {
        }

        Assert.Equal(3, NpyFile.ReadFloat32(path).Length);
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, 5)]
    [InlineData(4L, 1)]
    [InlineData(5L, 0)]
    public void Write_RangeOutsideArray_ThrowsArgumentOutOfRange(long start, int count)
    {
        using var writer = MappedNpyWriter.Create(_directory.File("w.npy"), 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(start, new float[count]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Read(start, new float[count]));
    }

    [Fact]
    public void Create_NegativeLength_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MappedNpyWriter.Create(_directory.File("w.npy"), -1));
    }

    [Fact]
    public void Write_DisjointRangesFromManyThreads_AllValuesLand()
    {
        const int Threads = 8;
        const int PerThread = 50_000;
        var path = _directory.File("parallel.npy");
        using (var writer = MappedNpyWriter.Create(path, Threads * PerThread))
        {
            using var barrier = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                var chunk = Enumerable.Range(0, PerThread).Select(i => (float)((t * PerThread) + i)).ToArray();
                barrier.SignalAndWait();
                for (var offset = 0; offset < PerThread; offset += 1000)
                {
                    writer.Write((t * PerThread) + offset, chunk.AsSpan(offset, 1000));
                }
            })).ToList();
            threads.ForEach(thread => thread.Start());
            threads.ForEach(thread => thread.Join());
            writer.Flush();
        }

        var values = NpyFile.ReadFloat32(path);
        Assert.Equal(Enumerable.Range(0, Threads * PerThread).Select(i => (float)i).ToArray(), values);
    }

    [Fact]
    public void Write_AfterDispose_ThrowsObjectDisposed()
    {
        var writer = MappedNpyWriter.Create(_directory.File("w.npy"), 4);
        writer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => writer.Write(0, [1f]));
        Assert.Throws<ObjectDisposedException>(writer.Flush);
    }
}
