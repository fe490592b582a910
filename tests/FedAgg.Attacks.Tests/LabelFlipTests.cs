namespace FedAgg.Attacks.Tests;

public sealed class LabelFlipTests
{
    [Fact]
    public void Map_EveryClass_IsNineMinusLabelAndAnInvolution()
    {
        for (byte y = 0; y < 10; y++)
        {
            Assert.Equal(9 - y, LabelFlip.Map(y));
            Assert.Equal(y, LabelFlip.Map(LabelFlip.Map(y)));
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(255)]
    public void Map_LabelOutsideTenClasses_Throws(byte label) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LabelFlip.Map(label));

    [Fact]
    public void MapInPlace_Labels_MapsEach()
    {
        byte[] labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3];
        LabelFlip.MapInPlace(labels);
        Assert.Equal([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 6], labels);
    }
}
