using FedAgg.Storage.Models;

namespace FedAgg.Storage.Tests.Models;

public sealed class ModelManifestTests
{
    [Fact]
    public void ToJson_FromJson_RoundTrips()
    {
        var manifest = new ModelManifest([new ModelTensor("embed.weight", [4, 3]), new ModelTensor("bias", [3]), new ModelTensor("scale", []), new ModelTensor("empty", [0, 5])]);

        var json = manifest.ToJson();
        var parsed = ModelManifest.FromJson(json);

        Assert.Equal(
            "{\"tensors\":[{\"name\":\"embed.weight\",\"dtype\":\"F32\",\"shape\":[4,3]},{\"name\":\"bias\",\"dtype\":\"F32\",\"shape\":[3]},{\"name\":\"scale\",\"dtype\":\"F32\",\"shape\":[]},{\"name\":\"empty\",\"dtype\":\"F32\",\"shape\":[0,5]}]}",
            json);
        Assert.Equal(manifest, parsed);
        Assert.Equal(manifest.GetHashCode(), parsed.GetHashCode());
        Assert.Equal(16L, parsed.TotalElements);
        Assert.Equal(64L, parsed.PayloadBytes);
        Assert.Equal([12L, 3L, 1L, 0L], parsed.Tensors.Select(static t => t.ElementCount));
    }

    [Fact]
    public void FromJson_WithoutDtype_Accepted()
    {
        var manifest = ModelManifest.FromJson("{\"tensors\":[{\"shape\":[2],\"name\":\"w\"}]} \n");

        Assert.Equal(new ModelTensor("w", [2]), Assert.Single(manifest.Tensors));
    }

    [Fact]
    public void Equals_DifferentShapeOrOrder_NotEqual()
    {
        var a = new ModelManifest([new ModelTensor("a", [2, 3]), new ModelTensor("b", [1])]);

        Assert.NotEqual(a, new ModelManifest([new ModelTensor("a", [3, 2]), new ModelTensor("b", [1])]));
        Assert.NotEqual(a, new ModelManifest([new ModelTensor("b", [1]), new ModelTensor("a", [2, 3])]));
    }

    public static TheoryData<string, string> InvalidManifests() => new()
    {
        { "duplicate", "[{\"name\":\"a\",\"shape\":[1]},{\"name\":\"a\",\"shape\":[2]}]" },
        { "empty name", "[{\"name\":\"\",\"shape\":[1]}]" },
        { "reserved name", "[{\"name\":\"__metadata__\",\"shape\":[1]}]" },
        { "negative", "[{\"name\":\"a\",\"shape\":[-1]}]" },
        { "fraction", "[{\"name\":\"a\",\"shape\":[1.5]}]" },
        { "overflow", "[{\"name\":\"a\",\"shape\":[4611686018427387904]}]" },
        { "total overflow", "[{\"name\":\"a\",\"shape\":[2305843009213693951]},{\"name\":\"b\",\"shape\":[1]}]" },
        { "dtype", "[{\"name\":\"a\",\"dtype\":\"F16\",\"shape\":[1]}]" },
        { "unknown field", "[{\"name\":\"a\",\"shape\":[1],\"offset\":0}]" },
        { "missing shape", "[{\"name\":\"a\"}]" },
    };

    [Theory]
    [MemberData(nameof(InvalidManifests))]
    public void FromJson_InvalidTensor_ThrowsFormatException(string why, string tensors)
    {
        var error = Assert.Throws<FormatException>(() => ModelManifest.FromJson("{\"tensors\":" + tensors + "}"));

        Assert.False(string.IsNullOrEmpty(error.Message), why);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"tensors\":[],\"extra\":1}")]
    [InlineData("{\"tensors\":[]} {}")]
    [InlineData("{\"tensors\":{}}")]
    [InlineData("{\"tensors\":[")]
    public void FromJson_InvalidDocument_ThrowsFormatException(string json)
    {
        Assert.Throws<FormatException>(() => ModelManifest.FromJson(json));
    }

    [Fact]
    public void Constructor_DuplicateName_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelManifest([new ModelTensor("a", [1]), new ModelTensor("a", [1])]));

        Assert.Equal("The tensor name 'a' is used twice. (Parameter 'tensors')", error.Message);
    }

    [Fact]
    public void Constructor_LargestTotal_Accepted()
    {
        var manifest = new ModelManifest([new ModelTensor("a", [long.MaxValue / 4])]);

        Assert.Equal(long.MaxValue / 4 * 4, manifest.PayloadBytes);
    }
}
