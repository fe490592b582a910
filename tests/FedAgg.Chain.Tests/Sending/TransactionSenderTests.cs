using System.Numerics;
using System.Text.Json;
using FedAgg.Chain.Crypto;
using FedAgg.Chain.Devnet;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Merkle;
using FedAgg.TestKit.Chain;
using FedAgg.TestKit.Logging;

namespace FedAgg.Chain.Tests.Sending;

/// <summary>The nonce-owning sender against a real anvil node.</summary>
[Trait("Category", "Chain")]
public sealed class TransactionSenderTests
{
    // Runtime code that always reverts with the 4 bytes 0xdeadbeef: PUSH4 deadbeef PUSH1 e0 SHL PUSH1 0 MSTORE PUSH1 4 PUSH1 0 REVERT,
    // behind init code that copies those 16 bytes to memory and returns them.
    private const string AlwaysRevertsCreationCode = "0x6010600c60003960106000f3" + "63deadbeef60e01b60005260046000fd";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SendAsync_ConcurrentCallers_GetDistinctConsecutiveNoncesAndAllConfirm()
    {
        await using var anvil = await AnvilInstance.StartAsync();
        using var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        var recipient = EthereumAddress.Parse(Foundry.DevAddress1);
        var before = await rpc.GetBalanceAsync(recipient, CancellationToken.None);

        const int count = 24;
        var receipts = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            Task.Run(() => sender.SendAsync(new TransactionRequest(recipient, ReadOnlyMemory<byte>.Empty, Value: i + 1), CancellationToken.None))));

        Assert.All(receipts, receipt => Assert.True(receipt.Succeeded));
        var nonces = new List<ulong>();
        foreach (var receipt in receipts)
        {
            var transaction = await anvil.RpcAsync("eth_getTransactionByHash", receipt.TransactionHash.ToString());
            nonces.Add(Convert.ToUInt64(transaction.GetProperty("nonce").GetString(), 16));
            Assert.Equal(Foundry.DevAddress0.ToLowerInvariant(), transaction.GetProperty("from").GetString());
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => (ulong)i), nonces.Order());
        var after = await rpc.GetBalanceAsync(recipient, CancellationToken.None);
        Assert.Equal(new BigInteger(count * (count + 1) / 2), after - before);
    }

    [Fact]
    public async Task SendAsync_CallThatReverts_ThrowsWithRevertDataAndSendsNothing()
    {
        await using var anvil = await AnvilInstance.StartAsync();
        using var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        var created = await sender.SendAsync(new TransactionRequest(null, Convert.FromHexString(AlwaysRevertsCreationCode[2..])), CancellationToken.None);
        var contract = created.ContractAddress ?? throw new InvalidOperationException("no contract address in the creation receipt");
        var nonceBefore = await rpc.GetTransactionCountAsync(key.Address, pending: true, CancellationToken.None);

        var exception = await Assert.ThrowsAsync<ChainException>(() => sender.SendAsync(new TransactionRequest(contract, new byte[] { 1, 2, 3, 4 }), CancellationToken.None));

        Assert.Equal("0xdeadbeef", exception.RevertSelector);
        Assert.False(exception.IsTransient);
        Assert.Equal(nonceBefore, await rpc.GetTransactionCountAsync(key.Address, pending: true, CancellationToken.None));
    }

    [Fact]
    public async Task SendAsync_MinedTransactionReverts_ThrowsWithReplayedRevertData()
    {
        await using var anvil = await AnvilInstance.StartAsync();
        using var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
        var created = await sender.SendAsync(new TransactionRequest(null, Convert.FromHexString(AlwaysRevertsCreationCode[2..])), CancellationToken.None);

        // A fixed gas limit skips the estimate, so the transaction is mined and reverts on chain.
        var exception = await Assert.ThrowsAsync<ChainException>(() =>
            sender.SendAsync(new TransactionRequest(created.ContractAddress, new byte[] { 1 }, GasLimit: 100_000), CancellationToken.None));

        Assert.Equal("0xdeadbeef", exception.RevertSelector);
        Assert.Contains("reverted in block", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ThreeConfirmations_ReturnsOnlyAfterTwoMoreBlocks()
    {
        await using var anvil = await AnvilInstance.StartAsync();
        using var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var logger = new ListLogger<TransactionSender>();
        using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20), Confirmations = 3 }, logger);

        var sending = sender.SendAsync(new TransactionRequest(EthereumAddress.Parse(Foundry.DevAddress1), ReadOnlyMemory<byte>.Empty, Value: 5, GasLimit: 21_000), CancellationToken.None);
        var hashText = (await logger.WaitForEventAsync(5020, Patience)).Split(' ')[2];
        var mined = await WaitForReceiptAsync(rpc, Bytes32.Parse(hashText));
        await anvil.RpcAsync("evm_mine");
        var afterOneMore = await Task.WhenAny(sending, Task.Delay(TimeSpan.FromMilliseconds(300)));
        await anvil.RpcAsync("evm_mine");
        var receipt = await sending.WaitAsync(Patience);

        Assert.NotSame(sending, afterOneMore);
        Assert.Equal(mined.BlockNumber, receipt.BlockNumber);
        Assert.True(await rpc.GetBlockNumberAsync(CancellationToken.None) >= receipt.BlockNumber + 2);
    }

    [Fact]
    public async Task SendAsync_TransactionStuckInPool_IsRepricedAndTheReplacementMined()
    {
        await using var anvil = await AnvilInstance.StartAsync();
        await anvil.RpcAsync("evm_setAutomine", false);
        using var rpc = new EthereumRpcClient(new Uri(anvil.RpcUrl));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);
        var logger = new ListLogger<TransactionSender>();
        using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(20),
            ResubmitAfter = TimeSpan.FromMilliseconds(300),
            MaxFeeBumps = 2,
        }, logger);

        var sending = sender.SendAsync(new TransactionRequest(EthereumAddress.Parse(Foundry.DevAddress1), ReadOnlyMemory<byte>.Empty, Value: 7, GasLimit: 21_000), CancellationToken.None);
        await logger.WaitForEventAsync(5023, Patience);
        await anvil.RpcAsync("evm_mine");
        var receipt = await sending.WaitAsync(Patience);

        Assert.True(receipt.Succeeded);
        var transaction = await anvil.RpcAsync("eth_getTransactionByHash", receipt.TransactionHash.ToString());
        Assert.Equal("0x0", transaction.GetProperty("nonce").GetString());
        var firstHash = logger.Entries.First(e => e.EventId == 5020).Message.Split(' ')[2];
        Assert.NotEqual(firstHash, receipt.TransactionHash.ToString());
        Assert.Equal(1UL, await rpc.GetTransactionCountAsync(key.Address, pending: false, CancellationToken.None));
    }

    [Fact]
    public async Task SendAsync_NodeKilledAndRestartedWhileWaiting_TransactionIsConfirmed()
    {
        var data = Directory.CreateTempSubdirectory("fedagg-chain-restart-");
        try
        {
            var options = new LocalChainOptions { DataDirectory = data.FullName, BlockTimeSeconds = 2, AnvilPath = Foundry.AnvilPath };
            var chain = await LocalChain.StartAsync(options, null, CancellationToken.None);
            options.Port = chain.Port;
            using var rpc = new EthereumRpcClient(chain.RpcUrl, new EthereumRpcOptions { MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(50), RequestTimeout = TimeSpan.FromSeconds(2) });
            using var key = Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[0]);
            var logger = new ListLogger<TransactionSender>();
            using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions
            {
                PollInterval = TimeSpan.FromMilliseconds(50),
                ResubmitAfter = TimeSpan.FromMilliseconds(500),
                ConfirmationTimeout = TimeSpan.FromSeconds(60),
            }, logger);

            var sending = sender.SendAsync(new TransactionRequest(EthereumAddress.Parse(Foundry.DevAddress1), ReadOnlyMemory<byte>.Empty, Value: 3, GasLimit: 21_000), CancellationToken.None);
            await logger.WaitForEventAsync(5020, Patience);
            await chain.KillAsync();
            await chain.DisposeAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            chain = await LocalChain.StartAsync(options, null, CancellationToken.None);
            try
            {
                var receipt = await sending.WaitAsync(Patience);

                Assert.True(receipt.Succeeded);
                Assert.NotNull(await rpc.GetTransactionReceiptAsync(receipt.TransactionHash, CancellationToken.None));
            }
            finally
            {
                await chain.DisposeAsync();
            }
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task LocalChain_StoppedAndStartedAgain_ContinuesTheSameChain()
    {
        var data = Directory.CreateTempSubdirectory("fedagg-chain-state-");
        try
        {
            var options = new LocalChainOptions { DataDirectory = data.FullName, AnvilPath = Foundry.AnvilPath };
            ulong blockBefore;
            Bytes32 hash;
            await using (var chain = await LocalChain.StartAsync(options, null, CancellationToken.None))
            {
                using var rpc = new EthereumRpcClient(chain.RpcUrl);
                using var key = Secp256k1PrivateKey.FromHex(LocalChain.DevelopmentKeys[2]);
                using var sender = new TransactionSender(rpc, key, new TransactionSenderOptions { PollInterval = TimeSpan.FromMilliseconds(20) });
                var receipt = await sender.SendAsync(new TransactionRequest(EthereumAddress.Parse(Foundry.DevAddress1), ReadOnlyMemory<byte>.Empty, Value: 11), CancellationToken.None);
                hash = receipt.TransactionHash;
                blockBefore = await rpc.GetBlockNumberAsync(CancellationToken.None);
                await chain.StopAsync(TimeSpan.FromSeconds(10));
            }

            await using (var chain = await LocalChain.StartAsync(options, null, CancellationToken.None))
            {
                using var rpc = new EthereumRpcClient(chain.RpcUrl);
                Assert.True(await rpc.GetBlockNumberAsync(CancellationToken.None) >= blockBefore);
                Assert.NotNull(await rpc.GetTransactionReceiptAsync(hash, CancellationToken.None));
                Assert.Equal(1UL, await rpc.GetTransactionCountAsync(EthereumAddress.Parse("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"), pending: false, CancellationToken.None));
            }
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    private static async Task<TransactionReceipt> WaitForReceiptAsync(EthereumRpcClient rpc, Bytes32 hash)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            if (await rpc.GetTransactionReceiptAsync(hash, CancellationToken.None) is { } receipt)
            {
                return receipt;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no receipt for {hash} within 10 s");
    }

    [Fact]
    public void LocalChain_AnvilMissing_SaysHowToInstallIt()
    {
        var exception = Assert.Throws<ChainException>(() => LocalChain.FindAnvil("/nonexistent/anvil"));

        Assert.Contains("/nonexistent/anvil", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_OutOfRange_NamesTheOption()
    {
        using var rpc = new EthereumRpcClient(new Uri("http://127.0.0.1:1"));
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new TransactionSender(rpc, key, new TransactionSenderOptions { FeeBumpPercent = 5 }));

        Assert.Contains("FeeBumpPercent", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_Key_NeverShowsTheSecret()
    {
        using var key = Secp256k1PrivateKey.FromHex(Foundry.DevKey0);

        Assert.DoesNotContain(Foundry.DevKey0[2..], key.ToString()!, StringComparison.OrdinalIgnoreCase);
        _ = JsonSerializer.Serialize(new { text = key.ToString() });
    }
}
