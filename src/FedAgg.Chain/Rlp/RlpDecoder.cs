using System.Buffers;

namespace FedAgg.Chain.Rlp;

/// <summary>The outcome of <see cref="RlpDecoder.TryDecode"/>.</summary>
public enum RlpDecodeStatus
{
    /// <summary>The input is exactly one canonical item.</summary>
    Done = 0,

    /// <summary>The input is not (the error says why and where).</summary>
    Invalid = 1,
}

/// <summary>Decodes a complete RLP item from a possibly segmented buffer, reporting garbage as a status rather than throwing.</summary>
public static class RlpDecoder
{
    /// <summary>The default cap on the input size: 16 MiB.</summary>
    public const int DefaultMaxInputLength = 16 * 1024 * 1024;

    /// <summary>
    /// Decodes exactly one canonical item spanning all of <paramref name="input"/>: truncation, non-canonical forms,
    /// trailing bytes and nesting beyond <paramref name="maxDepth"/> are <see cref="RlpDecodeStatus.Invalid"/>.
    /// </summary>
    /// <param name="input">The whole encoding.</param>
    /// <param name="item">The item when <see cref="RlpDecodeStatus.Done"/>.</param>
    /// <param name="error">Why and where the input is invalid, when <see cref="RlpDecodeStatus.Invalid"/>.</param>
    /// <param name="maxDepth">How deeply lists may nest.</param>
    /// <param name="maxInputLength">Inputs longer than this are rejected before anything is copied.</param>
    public static RlpDecodeStatus TryDecode(
        ReadOnlySequence<byte> input,
        out RlpItem? item,
        out RlpException? error,
        int maxDepth = RlpReader.DefaultMaxDepth,
        int maxInputLength = DefaultMaxInputLength)
    {
        item = null;
        error = null;
        if (input.Length > maxInputLength)
        {
            error = new RlpException(0, $"input of {input.Length} bytes exceeds the {maxInputLength}-byte limit");
            return RlpDecodeStatus.Invalid;
        }

        var span = input.IsSingleSegment ? input.FirstSpan : input.ToArray();
        try
        {
            item = RlpItem.Decode(span, maxDepth);
            return RlpDecodeStatus.Done;
        }
        catch (RlpException e)
        {
            error = e;
            return RlpDecodeStatus.Invalid;
        }
    }
}
