using System.Text;
using System.Text.Json.Nodes;
using FedAgg.Core.Rounds;

namespace FedAgg.Verification.Tests;

/// <summary>The manifest's JSON: a faithful round trip, and a strict reader.</summary>
[Trait("Category", "Chain")]
public sealed class RoundManifestJsonTests(RoundWorldFixture fixture) : IClassFixture<RoundWorldFixture>
{
    [Fact]
    public async Task ReadFileAsync_PublishedManifest_RoundTripsByteForByte()
    {
        var path = Core.Rounds.RoundManifestJson.ReadFileAsync(
            RoundDataLayout.ManifestPath(fixture.World.DataDirectory, RoundWorldFixture.MomentumTask, 2), CancellationToken.None);
        var manifest = await path;
        var written = RoundManifestJson.Write(manifest);

        var again = RoundManifestJson.Read(written);

        Assert.Equal(written, RoundManifestJson.Write(again));
        Assert.Equal(fixture.Momentum2.Manifest.ModelHash, again.ModelHash);
        Assert.Equal(fixture.Momentum2.Manifest.AnchorTx, again.AnchorTx);
        Assert.Equal(fixture.Momentum2.Manifest.Settings, again.Settings);
        Assert.Equal(fixture.Momentum2.Manifest.Credits, again.Credits);
        Assert.Equal(fixture.Momentum2.Manifest.Aggregation, again.Aggregation);
        Assert.Equal(5, again.Updates.Count);
        Assert.Equal(fixture.Momentum2.Manifest.Updates.Select(static u => (u.Score, u.Contribution, u.Credit)), again.Updates.Select(static u => (u.Score, u.Contribution, u.Credit)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("updates.0")]
    [InlineData("credits.0")]
    [InlineData("aggregation")]
    [InlineData("settings")]
    [InlineData("settings.model")]
    public void Read_UnknownField_IsRejectedNamingIt(string where)
    {
        var json = JsonNode.Parse(RoundManifestJson.Write(fixture.Momentum2.Manifest))!;
        var target = where.Length == 0 ? json : where.Split('.').Aggregate(json, static (node, part) => int.TryParse(part, out var i) ? node[i]! : node[part]!);
        target.AsObject()["surprise"] = 1;

        var error = Assert.Throws<FormatException>(() => RoundManifestJson.Read(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.EndsWith(".surprise: unknown field", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("modelHash", "\"0x1234\"", "manifest.modelHash: expected 0x-prefixed hex of 32 bytes")]
    [InlineData("modelHash", "\"0xABCDEF\"", "manifest.modelHash: expected 0x-prefixed lowercase hex")]
    [InlineData("round", "0", "manifest.round: 0 is outside")]
    [InlineData("round", "\"1\"", "manifest.round: expected an integer")]
    [InlineData("anchorTx", null, "manifest.anchorTx: the field is missing")]
    [InlineData("version", "2", "manifest.version: this build reads manifest version 1")]
    public void Read_BadField_NamesIt(string field, string? value, string message)
    {
        var json = JsonNode.Parse(RoundManifestJson.Write(fixture.Momentum2.Manifest))!.AsObject();
        if (value is null)
        {
            json.Remove(field);
        }
        else
        {
            json[field] = JsonNode.Parse(value);
        }

        var error = Assert.Throws<FormatException>(() => RoundManifestJson.Read(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DuplicateField_IsRejected()
    {
        var text = Encoding.UTF8.GetString(RoundManifestJson.Write(fixture.Momentum2.Manifest));
        var duplicated = "{\n  \"round\": 2," + text[1..];

        var error = Assert.Throws<FormatException>(() => RoundManifestJson.Read(Encoding.UTF8.GetBytes(duplicated)));

        Assert.Contains("'round' appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TooLarge_IsRejectedBeforeParsing()
    {
        var error = Assert.Throws<FormatException>(() => RoundManifestJson.Read(new byte[RoundManifestJson.MaxBytes + 1]));

        Assert.Contains("more than", error.Message, StringComparison.Ordinal);
    }
}
