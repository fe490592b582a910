using System.Net;
using System.Text;
using System.Text.Json;
using FedAgg.Chain.Rpc;

namespace FedAgg.Chain.Tests.Rpc;

/// <summary>The JSON-RPC client's error handling, retries and parsing, over a scripted HTTP handler.</summary>
public sealed class EthereumRpcClientTests
{
    private static readonly Uri Endpoint = new("http://127.0.0.1:1/");

    [Fact]
    public async Task RequestAsync_TwoServerErrorsThenSuccess_RetriesAndReturnsResult()
    {
        var handler = new ScriptedHandler(
            _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            _ => new HttpResponseMessage(HttpStatusCode.BadGateway),
            request => Json(request, "\"0x7a69\""));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);

        var chainId = await client.GetChainIdAsync(CancellationToken.None);

        Assert.Equal(31337UL, chainId);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task RequestAsync_ServerErrorsBeyondRetries_ThrowsTransientChainException()
    {
        var handler = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.InternalServerError));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(maxRetries: 2), handler: handler);

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.GetBlockNumberAsync(CancellationToken.None));

        Assert.True(exception.IsTransient);
        Assert.Contains("HTTP 500", exception.Message, StringComparison.Ordinal);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task RequestAsync_JsonRpcError_IsNotRetriedAndKeepsCodeAndMessage()
    {
        var handler = new ScriptedHandler(request => Error(request, -32601, "Method not found"));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.RequestAsync("eth_nope", null, CancellationToken.None));

        Assert.False(exception.IsTransient);
        Assert.Equal(-32601, exception.RpcErrorCode);
        Assert.Equal("Method not found", exception.NodeMessage);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task CallAsync_RevertWithErrorString_DecodesReason()
    {
        // Error(string) with "not allowed", as solc encodes require(false, "not allowed").
        var revert = "0x08c379a0" + Word(0x20) + Word(11) + Convert.ToHexStringLower(Encoding.UTF8.GetBytes("not allowed")).PadRight(64, '0');
        var handler = new ScriptedHandler(request => Error(request, 3, "execution reverted: not allowed", $"\"{revert}\""));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.CallAsync(new CallRequest(EthereumAddress.Zero, new byte[] { 1, 2, 3, 4 }), null, CancellationToken.None));

        Assert.Equal("not allowed", exception.RevertReason);
        Assert.Equal("0x08c379a0", exception.RevertSelector);
        Assert.Equal(3, exception.RpcErrorCode);
        Assert.False(exception.IsTransient);
    }

    [Fact]
    public async Task CallAsync_CustomRevert_UsesInstalledDecoder()
    {
        var handler = new ScriptedHandler(request => Error(request, 3, "execution reverted", "\"0xdeadbeef" + Word(7) + "\""));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler)
        {
            RevertDecoder = data => data.Span[0] == 0xde ? "Custom(7)" : null,
        };

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.CallAsync(new CallRequest(EthereumAddress.Zero, Array.Empty<byte>()), null, CancellationToken.None));

        Assert.Equal("Custom(7)", exception.RevertReason);
        Assert.Contains("Custom(7)", exception.Message, StringComparison.Ordinal);
        Assert.Equal(36, exception.RevertData!.Length);
    }

    [Fact]
    public async Task RequestAsync_SlowNode_TimesOutAsTransient()
    {
        var handler = new ScriptedHandler(async (request, token) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), token);
            return Json(request, "\"0x1\"");
        });
        using var client = new EthereumRpcClient(Endpoint, new EthereumRpcOptions { RequestTimeout = TimeSpan.FromMilliseconds(150), MaxRetries = 0 }, handler: handler);

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.GetBlockNumberAsync(CancellationToken.None));

        Assert.True(exception.IsTransient);
        Assert.Contains("no answer", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestAsync_CallerCancels_ThrowsOperationCanceled()
    {
        var handler = new ScriptedHandler(async (request, token) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), token);
            return Json(request, "\"0x1\"");
        });
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetBlockNumberAsync(cancellation.Token));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0xZZ\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x10000000000000000\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":12}")]
    public async Task GetBlockNumberAsync_MalformedAnswer_ThrowsNonTransientChainException(string body)
    {
        var handler = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.GetBlockNumberAsync(CancellationToken.None));

        Assert.False(exception.IsTransient);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task RequestAsync_AnswerOverLimit_IsRefused()
    {
        var big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x" + new string('0', 4096) + "\"}";
        var handler = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(big, Encoding.UTF8, "application/json") });
        using var client = new EthereumRpcClient(Endpoint, new EthereumRpcOptions { MaxResponseBytes = 1024, MaxRetries = 0 }, handler: handler);

        await Assert.ThrowsAsync<ChainException>(() => client.GetCodeAsync(EthereumAddress.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task RequestAsync_NothingListening_FailsTransientAfterRetries()
    {
        var port = FedAgg.TestKit.Chain.Foundry.FreeLoopbackPort();
        using var client = new EthereumRpcClient(new Uri($"http://127.0.0.1:{port}"), FastRetries(maxRetries: 1));

        var exception = await Assert.ThrowsAsync<ChainException>(() => client.GetChainIdAsync(CancellationToken.None));

        Assert.True(exception.IsTransient);
        Assert.Contains("cannot reach", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestAsync_WritesJsonRpc20Envelope()
    {
        var handler = new ScriptedHandler(request => Json(request, "\"0x5\""));
        using var client = new EthereumRpcClient(Endpoint, FastRetries(), handler: handler);

        await client.GetTransactionCountAsync(EthereumAddress.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), pending: true, CancellationToken.None);

        using var sent = JsonDocument.Parse(handler.Requests[0]);
        Assert.Equal("2.0", sent.RootElement.GetProperty("jsonrpc").GetString());
        Assert.Equal("eth_getTransactionCount", sent.RootElement.GetProperty("method").GetString());
        var parameters = sent.RootElement.GetProperty("params");
        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", parameters[0].GetString());
        Assert.Equal("pending", parameters[1].GetString());
    }

    [Fact]
    public void Options_OutOfRange_NamesTheOption()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new EthereumRpcClient(Endpoint, new EthereumRpcOptions { MaxRetries = 99 }));

        Assert.Contains("MaxRetries", exception.Message, StringComparison.Ordinal);
    }

    private static EthereumRpcOptions FastRetries(int maxRetries = 4) =>
        new() { MaxRetries = maxRetries, RetryDelay = TimeSpan.FromMilliseconds(1), RequestTimeout = TimeSpan.FromSeconds(5) };

    private static string Word(long value) => value.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    private static HttpResponseMessage Json(string request, string result)
    {
        using var document = JsonDocument.Parse(request);
        var id = document.RootElement.GetProperty("id").GetInt64();
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{result}}}", Encoding.UTF8, "application/json"),
        };
    }

    private static HttpResponseMessage Error(string request, int code, string message, string? data = null)
    {
        using var document = JsonDocument.Parse(request);
        var id = document.RootElement.GetProperty("id").GetInt64();
        var dataPart = data is null ? string.Empty : $",\"data\":{data}";
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{{\"code\":{code},\"message\":\"{message}\"{dataPart}}}}}", Encoding.UTF8, "application/json"),
        };
    }

    /// <summary>Answers each request with the next scripted response (the last one repeats) and records the bodies.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly Func<string, CancellationToken, Task<HttpResponseMessage>>[] _responses;

        public ScriptedHandler(params Func<string, HttpResponseMessage>[] responses)
        {
            _responses = responses.Select(respond => (Func<string, CancellationToken, Task<HttpResponseMessage>>)((body, _) => Task.FromResult(respond(body)))).ToArray();
        }

        public ScriptedHandler(Func<string, CancellationToken, Task<HttpResponseMessage>> response)
        {
            _responses = [response];
        }

        public List<string> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            int index;
            lock (Requests)
            {
                Requests.Add(body);
                index = Math.Min(Requests.Count - 1, _responses.Length - 1);
            }

            return await _responses[index](body, cancellationToken);
        }
    }
}
