using System.Runtime.InteropServices;

namespace FedAgg.Aggregation;

/// <summary>A 64-byte aligned native array for kernel scratch: never moved by the GC and never on the managed heap.</summary>
internal sealed unsafe class NativeBuffer<T> : IDisposable
    where T : unmanaged
{
    public NativeBuffer(long length, bool clear = true)
    {
        Length = length;
        var bytes = (nuint)(Math.Max(1, length) * sizeof(T));
        Pointer = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        if (clear)
        {
            NativeMemory.Clear(Pointer, bytes);
        }
    }

    public T* Pointer { get; private set; }

    public long Length { get; }

    public Span<T> Span => new(Pointer, checked((int)Length));

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
