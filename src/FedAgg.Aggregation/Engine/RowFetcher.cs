using System.Runtime.InteropServices;

namespace FedAgg.Aggregation;

/// <summary>
/// A worker's view of one block of rows: pointers into the source where it keeps updates in memory, otherwise
/// into the worker's own copy. Owns its native scratch, so a block never allocates on the managed heap.
/// </summary>
internal sealed unsafe class RowFetcher : IDisposable
{
    private readonly UpdateSource _source;
    private readonly int _capacityRows;
    private readonly int _capacityLength;
    private float* _scratch;

    public RowFetcher(UpdateSource source, int capacityRows, int capacityLength)
    {
        _source = source;
        _capacityRows = capacityRows;
        _capacityLength = capacityLength;
        Rows = new nint[capacityRows];
    }

    /// <summary>Row pointers of the last <see cref="Fetch"/>, in the order requested.</summary>
    public nint[] Rows { get; }

    /// <summary>Makes <see cref="Rows"/>[k] point at coordinates [start, start+length) of update <paramref name="indices"/>[k].</summary>
    public void Fetch(ReadOnlySpan<int> indices, long start, int length)
    {
        if (_source.PrefersBatchReads)
        {
            _source.ReadRows(indices, start, length, new Span<float>(Scratch, checked(indices.Length * length)));
            for (var k = 0; k < indices.Length; k++)
            {
                Rows[k] = (nint)(Scratch + ((long)k * length));
            }

            return;
        }

        for (var k = 0; k < indices.Length; k++)
        {
            FetchOne(k, indices[k], start, length);
        }
    }

    /// <summary>Fetches update <paramref name="row"/> into slot <paramref name="slot"/>.</summary>
    public void FetchOne(int slot, int row, long start, int length)
    {
        var pointer = _source.TryGetRowPointer(row, start);
        if (pointer == 0)
        {
            var copy = Scratch + ((long)slot * _capacityLength);
            _source.ReadRow(row, start, new Span<float>(copy, length));
            pointer = (nint)copy;
        }

        Rows[slot] = pointer;
    }

    private float* Scratch
    {
        get
        {
            if (_scratch == null)
            {
                _scratch = (float*)NativeMemory.AlignedAlloc((nuint)((long)_capacityRows * _capacityLength * sizeof(float)), 64);
            }

            return _scratch;
        }
    }

    public void Dispose()
    {
        if (_scratch != null)
        {
            NativeMemory.AlignedFree(_scratch);
            _scratch = null;
        }
    }
}
