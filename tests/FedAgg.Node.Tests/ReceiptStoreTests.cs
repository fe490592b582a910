using System.Security.Cryptography;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Node.Tests;

public sealed class ReceiptStoreTests
{
    [Fact]
    public async Task WriteAsync_ThenReadAsync_ReturnsEveryField()
    {
        using var directory = new TempDirectory();
        var store = new ReceiptStore(directory.Path);
        var receipt = new StoredReceipt
        {
            TaskId = "task/with odd:chars", Round = 42, PeerId = "12D3KooWpeer", UpdateId = new Bytes32(RandomNumberGenerator.GetBytes(32)),
            Preimage = RandomNumberGenerator.GetBytes(190), Signature = RandomNumberGenerator.GetBytes(64), Status = SubmitStatus.Accepted,
            Reason = "fine", Sequence = 7, ReceivedUnixMs = 1_700_000_000_123, Receipt = RandomNumberGenerator.GetBytes(150), ServerPeerId = "12D3KooWserver", Attempts = 2,
        };

        var path = await store.WriteAsync(receipt, CancellationToken.None);
        var read = await store.ReadAsync(receipt.TaskId, 42, CancellationToken.None);

        Assert.StartsWith(store.Root, path, StringComparison.Ordinal);
        Assert.EndsWith("round-000042.json", path, StringComparison.Ordinal);
        Assert.DoesNotContain(":", Path.GetFileName(Path.GetDirectoryName(path)!), StringComparison.Ordinal);
        Assert.NotNull(read);
        Assert.Equal(receipt.UpdateId, read.UpdateId);
        Assert.Equal(receipt.Preimage.ToArray(), read.Preimage.ToArray());
        Assert.Equal(receipt.Signature.ToArray(), read.Signature.ToArray());
        Assert.Equal(receipt.Receipt.ToArray(), read.Receipt.ToArray());
        Assert.Equal((receipt.TaskId, receipt.Round, receipt.PeerId, receipt.Status, receipt.Reason, receipt.Sequence, receipt.ReceivedUnixMs, receipt.ServerPeerId, receipt.Attempts),
            (read.TaskId, read.Round, read.PeerId, read.Status, read.Reason, read.Sequence, read.ReceivedUnixMs, read.ServerPeerId, read.Attempts));
        Assert.Null(await store.ReadAsync(receipt.TaskId, 43, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_NotAReceipt_ThrowsParticipantNodeException()
    {
        using var directory = new TempDirectory();
        var store = new ReceiptStore(directory.Path);
        var path = store.PathOf("t", 1);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "{\"taskId\": 3}");

        await Assert.ThrowsAsync<ParticipantNodeException>(() => store.ReadAsync("t", 1, CancellationToken.None));
    }
}
