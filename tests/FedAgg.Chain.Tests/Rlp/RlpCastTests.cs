using System.Text;
using System.Text.Json;
using FedAgg.Chain.Rlp;
using FedAgg.TestKit.Primitives;

namespace FedAgg.Chain.Tests.Rlp;

[Trait("Category", "Chain")]
public sealed class RlpCastTests
{
    [Fact]
    public void Encode_RandomTrees_EqualCastToRlpAndCastFromRlpReadsThemBack()
    {
        var random = new Random(7);
        var items = Enumerable.Range(0, 30).Select(_ => RandomTree(random, 3)).ToArray();

        var encoded = CastBatch.Run([.. items.Select(i => new[] { "to-rlp", ToCastJson(i) })]);
        var decoded = CastBatch.Run([.. items.Select(i => new[] { "from-rlp", "0x" + Convert.ToHexStringLower(i.Encode()) })]);

        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(encoded[i], "0x" + Convert.ToHexStringLower(items[i].Encode()));
            Assert.Equal(items[i], FromCastJson(decoded[i]));
        }
    }

    [Fact]
    public void Decode_NonCanonicalInputs_CastRejectsThemToo()
    {
        string[] invalid = ["0x8100", "0x817f", "0xb800", "0xb801ff", "0xf800", "0xf803112233", "0xc5c3"];

        var results = CastBatch.RunRaw([.. invalid.Select(h => new[] { "from-rlp", h })]);

        for (var i = 0; i < invalid.Length; i++)
        {
            Assert.NotEqual(0, results[i].ExitCode);
            Assert.Throws<RlpException>(() => RlpItem.Decode(Convert.FromHexString(invalid[i][2..])));
        }

        // cast from-rlp ignores bytes after the first item; this decoder does not.
        Assert.Equal("\"0x80\"", TestKit.Chain.Foundry.Cast("from-rlp", "0x8180ff"));
        Assert.Throws<RlpException>(() => RlpItem.Decode([0x81, 0x80, 0xFF]));
    }

    private static RlpItem RandomTree(Random random, int depth)
    {
        if (depth == 0 || random.Next(3) == 0)
        {
            var length = random.Next(4) switch
            {
                0 => 1,
                1 => random.Next(0, 56),
                2 => random.Next(56, 300),
                _ => random.Next(0, 4),
            };
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return RlpItem.FromBytes(bytes);
        }

        return RlpItem.List([.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => RandomTree(random, depth - 1))]);
    }

    private static string ToCastJson(RlpItem item)
    {
        var text = new StringBuilder();
        Append(text, item);
        return text.ToString();

        static void Append(StringBuilder text, RlpItem item)
        {
            if (!item.IsList)
            {
                text.Append("\"0x").Append(Convert.ToHexStringLower(item.Bytes.Span)).Append('"');
                return;
            }

            text.Append('[');
            for (var i = 0; i < item.Items.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                Append(text, item.Items[i]);
            }

            text.Append(']');
        }
    }

    private static RlpItem FromCastJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Convert(document.RootElement);

        static RlpItem Convert(JsonElement element) => element.ValueKind == JsonValueKind.Array
            ? RlpItem.List([.. element.EnumerateArray().Select(Convert)])
            : RlpItem.FromBytes(System.Convert.FromHexString(element.GetString()![2..]));
    }
}
