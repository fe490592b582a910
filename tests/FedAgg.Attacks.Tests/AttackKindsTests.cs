namespace FedAgg.Attacks.Tests;

public sealed class AttackKindsTests
{
    public static TheoryData<string, AttackKind> Names() => new()
    {
        { "none", AttackKind.None },
        { "sign-flip", AttackKind.SignFlip },
        { "gaussian", AttackKind.Gaussian },
        { "alie", AttackKind.Alie },
        { "ipm", AttackKind.Ipm },
        { "label-flip", AttackKind.LabelFlip },
        { "free-rider", AttackKind.FreeRider },
        { "replay", AttackKind.Replay },
        { "copycat", AttackKind.Copycat },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Parse_CliName_ReturnsKindAndRoundTrips(string name, AttackKind kind)
    {
        Assert.Equal(kind, AttackKinds.Parse(name));
        Assert.Equal(kind, AttackKinds.Parse($"  {name.ToUpperInvariant()} "));
        Assert.Equal(name, AttackKinds.CliName(kind));
    }

    [Fact]
    public void CliNames_EveryKind_ListedOnceInDeclarationOrder()
    {
        Assert.Equal(
            ["none", "sign-flip", "gaussian", "alie", "ipm", "label-flip", "free-rider", "replay", "copycat"],
            AttackKinds.CliNames);
        Assert.Equal(Enum.GetValues<AttackKind>().Length, AttackKinds.CliNames.Count);
    }

    [Theory]
    [InlineData("signflip")]
    [InlineData("")]
    [InlineData("little-is-enough")]
    public void Parse_UnknownName_ThrowsListingValidNames(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => AttackKinds.Parse(name));
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("none, sign-flip, gaussian, alie, ipm, label-flip, free-rider, replay, copycat", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse()
    {
        Assert.False(AttackKinds.TryParse(null, out _));
        Assert.Throws<ArgumentException>(() => AttackKinds.Parse(null));
    }

    [Fact]
    public void CliName_UndefinedKind_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AttackKinds.CliName((AttackKind)99));
}
