using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text.Json;
using FedAgg.Core.Merkle;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace FedAgg.Chain.Rpc;

/// <summary>
/// A JSON-RPC client for an Ethereum node over HTTP: one request per call, a timeout on each, transient failures
/// (connection refused or reset, timeouts, HTTP 429/5xx) retried with exponential back-off, JSON-RPC errors turned into
/// <see cref="ChainException"/> with the node's message and the revert data decoded. Thread-safe.
/// </summary>
public sealed class EthereumRpcClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline _pipeline;
    private readonly EthereumRpcOptions _options;
    private readonly ILogger _logger;
    private long _nextId;

    /// <summary>Creates a client for <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The node's HTTP JSON-RPC URL, e.g. <c>http://127.0.0.1:8545</c>.</param>
    /// <param name="options">Timeouts and retries; defaults when null.</param>
    /// <param name="logger">Where retries are logged.</param>
    /// <param name="timeProvider">The clock for timeouts and back-off; the system clock when null.</param>
    /// <param name="handler">The HTTP handler to use (tests); a fresh <see cref="SocketsHttpHandler"/> when null.</param>
    public EthereumRpcClient(
        Uri endpoint,
        EthereumRpcOptions? options = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null,
        HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"The RPC endpoint must be an http or https URL, not '{endpoint.Scheme}'.", nameof(endpoint));
        }

        _options = options ?? new EthereumRpcOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        Endpoint = endpoint;
        _ownsHttp = true;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) }, disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = _options.MaxResponseBytes,
        };

        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<ChainException>(exception => exception.IsTransient),
                MaxRetryAttempts = Math.Max(_options.MaxRetries, 1),
                Delay = _options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = arguments =>
                {
                    Log.RpcRetry(_logger, arguments.AttemptNumber + 1, arguments.RetryDelay.TotalMilliseconds, arguments.Outcome.Exception?.Message ?? "unknown");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        if (_options.MaxRetries == 0)
        {
            _pipeline = ResiliencePipeline.Empty;
        }
    }

    /// <summary>The node's URL.</summary>
    public Uri Endpoint { get; }

    /// <summary>
    /// Turns revert data into text for <see cref="ChainException.RevertReason"/> (the ledger binding installs its custom
    /// errors here). The default decodes <c>Error(string)</c> and <c>Panic(uint256)</c> and names unknown selectors.
    /// </summary>
    public Func<ReadOnlyMemory<byte>, string?> RevertDecoder { get; set; } = static data => Abi.RevertDecoder.Describe(data.Span);

    /// <summary>Sends one request and returns a copy of its <c>result</c>.</summary>
    /// <param name="method">The JSON-RPC method.</param>
    /// <param name="writeParameters">Writes the elements of the <c>params</c> array (null for none).</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    public async Task<JsonElement> RequestAsync(string method, Action<Utf8JsonWriter>? writeParameters, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        var body = BuildRequest(method, writeParameters);
        return await _pipeline.ExecuteAsync(
            static async (state, token) => await state.client.SendOnceAsync(state.method, state.body, token).ConfigureAwait(false),
            (client: this, method, body),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>eth_chainId</c>.</summary>
    public async Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) =>
        HexConvert.ToUInt64(await RequestAsync("eth_chainId", null, cancellationToken).ConfigureAwait(false), "eth_chainId");

    /// <summary><c>eth_blockNumber</c>.</summary>
    public async Task<ulong> GetBlockNumberAsync(CancellationToken cancellationToken) =>
        HexConvert.ToUInt64(await RequestAsync("eth_blockNumber", null, cancellationToken).ConfigureAwait(false), "eth_blockNumber");

    /// <summary><c>eth_getBlockByNumber</c> without transactions; null when the block does not exist.</summary>
    /// <param name="block">A block number, or null for the latest block.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<BlockHeader?> GetBlockAsync(ulong? block, CancellationToken cancellationToken)
    {
        var result = await RequestAsync("eth_getBlockByNumber", writer =>
        {
            writer.WriteStringValue(BlockTag(block));
            writer.WriteBooleanValue(false);
        }, cancellationToken).ConfigureAwait(false);
        if (result.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return new BlockHeader(
            HexConvert.ToUInt64(result.GetProperty("number"), "number"),
            HexConvert.ToBytes32(result.GetProperty("hash"), "hash"),
            HexConvert.ToUInt64(result.GetProperty("timestamp"), "timestamp"),
            result.TryGetProperty("baseFeePerGas", out var baseFee) && baseFee.ValueKind == JsonValueKind.String ? HexConvert.ToBigInteger(baseFee, "baseFeePerGas") : null,
            HexConvert.ToUInt64(result.GetProperty("gasLimit"), "gasLimit"));
    }

    /// <summary><c>eth_getTransactionCount</c>: the next nonce of <paramref name="account"/> counting mined (or, with <paramref name="pending"/>, also pooled) transactions.</summary>
    public async Task<ulong> GetTransactionCountAsync(EthereumAddress account, bool pending, CancellationToken cancellationToken) =>
        HexConvert.ToUInt64(await RequestAsync("eth_getTransactionCount", writer =>
        {
            writer.WriteStringValue(account.ToString());
            writer.WriteStringValue(pending ? "pending" : "latest");
        }, cancellationToken).ConfigureAwait(false), "eth_getTransactionCount");

    /// <summary><c>eth_getBalance</c> at the latest block, in wei.</summary>
    public async Task<BigInteger> GetBalanceAsync(EthereumAddress account, CancellationToken cancellationToken) =>
        HexConvert.ToBigInteger(await RequestAsync("eth_getBalance", writer =>
        {
            writer.WriteStringValue(account.ToString());
            writer.WriteStringValue("latest");
        }, cancellationToken).ConfigureAwait(false), "eth_getBalance");

    /// <summary><c>eth_getCode</c> at the latest block (empty for an account without code).</summary>
    public async Task<byte[]> GetCodeAsync(EthereumAddress account, CancellationToken cancellationToken) =>
        HexConvert.ToBytes(await RequestAsync("eth_getCode", writer =>
        {
            writer.WriteStringValue(account.ToString());
            writer.WriteStringValue("latest");
        }, cancellationToken).ConfigureAwait(false), "eth_getCode");

    /// <summary><c>eth_call</c>: runs a call without a transaction and returns its output; a revert is a <see cref="ChainException"/> with the revert data.</summary>
    /// <param name="call">The call.</param>
    /// <param name="block">The block to run against, or null for the latest.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<byte[]> CallAsync(CallRequest call, ulong? block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return HexConvert.ToBytes(await RequestAsync("eth_call", writer =>
        {
            WriteCall(writer, call);
            writer.WriteStringValue(BlockTag(block));
        }, cancellationToken).ConfigureAwait(false), "eth_call");
    }

    /// <summary><c>eth_estimateGas</c>; a call that would revert is a <see cref="ChainException"/> with the revert data.</summary>
    public async Task<ulong> EstimateGasAsync(CallRequest call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return HexConvert.ToUInt64(await RequestAsync("eth_estimateGas", writer => WriteCall(writer, call), cancellationToken).ConfigureAwait(false), "eth_estimateGas");
    }

    /// <summary><c>eth_maxPriorityFeePerGas</c>, in wei.</summary>
    public async Task<BigInteger> GetMaxPriorityFeePerGasAsync(CancellationToken cancellationToken) =>
        HexConvert.ToBigInteger(await RequestAsync("eth_maxPriorityFeePerGas", null, cancellationToken).ConfigureAwait(false), "eth_maxPriorityFeePerGas");

    /// <summary><c>eth_sendRawTransaction</c>: returns the transaction hash the node computed.</summary>
    public async Task<Bytes32> SendRawTransactionAsync(ReadOnlyMemory<byte> rawTransaction, CancellationToken cancellationToken) =>
        HexConvert.ToBytes32(await RequestAsync("eth_sendRawTransaction", writer => writer.WriteStringValue(HexConvert.Encode(rawTransaction.Span)), cancellationToken).ConfigureAwait(false), "eth_sendRawTransaction");

    /// <summary><c>eth_getTransactionReceipt</c>; null while the transaction is not mined (or unknown).</summary>
    public async Task<TransactionReceipt?> GetTransactionReceiptAsync(Bytes32 transactionHash, CancellationToken cancellationToken)
    {
        var result = await RequestAsync("eth_getTransactionReceipt", writer => writer.WriteStringValue(transactionHash.ToString()), cancellationToken).ConfigureAwait(false);
        return result.ValueKind == JsonValueKind.Null ? null : ParseReceipt(result);
    }

    /// <summary>Whether the node knows the transaction (pooled or mined), by <c>eth_getTransactionByHash</c>.</summary>
    public async Task<bool> IsTransactionKnownAsync(Bytes32 transactionHash, CancellationToken cancellationToken)
    {
        var result = await RequestAsync("eth_getTransactionByHash", writer => writer.WriteStringValue(transactionHash.ToString()), cancellationToken).ConfigureAwait(false);
        return result.ValueKind != JsonValueKind.Null;
    }

    /// <summary><c>eth_getLogs</c>.</summary>
    public async Task<IReadOnlyList<EventLog>> GetLogsAsync(LogFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var result = await RequestAsync("eth_getLogs", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("address", filter.Address.ToString());
            writer.WriteString("fromBlock", BlockTag(filter.FromBlock));
            writer.WriteString("toBlock", BlockTag(filter.ToBlock));
            writer.WriteStartArray("topics");
            foreach (var topic in filter.Topics)
            {
                if (topic is { } value)
                {
                    writer.WriteStringValue(value.ToString());
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }, cancellationToken).ConfigureAwait(false);
        var logs = new List<EventLog>(result.GetArrayLength());
        foreach (var log in result.EnumerateArray())
        {
            logs.Add(ParseLog(log));
        }

        return logs;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    internal static TransactionReceipt ParseReceipt(JsonElement receipt)
    {
        var logs = new List<EventLog>();
        if (receipt.TryGetProperty("logs", out var logArray) && logArray.ValueKind == JsonValueKind.Array)
        {
            foreach (var log in logArray.EnumerateArray())
            {
                logs.Add(ParseLog(log));
            }
        }

        return new TransactionReceipt(
            HexConvert.ToBytes32(receipt.GetProperty("transactionHash"), "transactionHash"),
            HexConvert.ToUInt64(receipt.GetProperty("blockNumber"), "blockNumber"),
            HexConvert.ToBytes32(receipt.GetProperty("blockHash"), "blockHash"),
            HexConvert.ToUInt64(receipt.GetProperty("status"), "status") == 1,
            HexConvert.ToUInt64(receipt.GetProperty("gasUsed"), "gasUsed"),
            receipt.TryGetProperty("effectiveGasPrice", out var price) ? HexConvert.ToBigInteger(price, "effectiveGasPrice") : BigInteger.Zero,
            HexConvert.ToAddress(receipt.GetProperty("from"), "from"),
            OptionalAddress(receipt, "to"),
            OptionalAddress(receipt, "contractAddress"),
            logs);
    }

    private static EventLog ParseLog(JsonElement log)
    {
        var topicsElement = log.GetProperty("topics");
        var topics = new Bytes32[topicsElement.GetArrayLength()];
        var index = 0;
        foreach (var topic in topicsElement.EnumerateArray())
        {
            topics[index++] = HexConvert.ToBytes32(topic, "topics");
        }

        return new EventLog(
            HexConvert.ToAddress(log.GetProperty("address"), "address"),
            topics,
            HexConvert.ToBytes(log.GetProperty("data"), "data"),
            HexConvert.ToUInt64(log.GetProperty("blockNumber"), "blockNumber"),
            HexConvert.ToBytes32(log.GetProperty("transactionHash"), "transactionHash"),
            (uint)HexConvert.ToUInt64(log.GetProperty("logIndex"), "logIndex"),
            log.TryGetProperty("removed", out var removed) && removed.ValueKind == JsonValueKind.True);
    }

    private static EthereumAddress? OptionalAddress(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? HexConvert.ToAddress(value, name) : null;

    private static string BlockTag(ulong? block) => block is { } number ? "0x" + number.ToString("x", CultureInfo.InvariantCulture) : "latest";

    private static void WriteCall(Utf8JsonWriter writer, CallRequest call)
    {
        writer.WriteStartObject();
        if (call.From is { } from)
        {
            writer.WriteString("from", from.ToString());
        }

        if (call.To is { } to)
        {
            writer.WriteString("to", to.ToString());
        }

        writer.WriteString("input", HexConvert.Encode(call.Data.Span));
        if (!call.Value.IsZero)
        {
            writer.WriteString("value", HexConvert.EncodeQuantity(call.Value));
        }

        writer.WriteEndObject();
    }

    private byte[] BuildRequest(string method, Action<Utf8JsonWriter>? writeParameters)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WriteNumber("id", Interlocked.Increment(ref _nextId));
            writer.WriteString("method", method);
            writer.WriteStartArray("params");
            writeParameters?.Invoke(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task<JsonElement> SendOnceAsync(string method, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonContentType;
            using var response = await _http.PostAsync(Endpoint, content, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
            {
                throw new ChainException($"{method}: the node at {Endpoint} answered HTTP {(int)response.StatusCode}.", null, isTransient: true);
            }

            var payload = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode && payload.Length == 0)
            {
                throw new ChainException($"{method}: the node at {Endpoint} answered HTTP {(int)response.StatusCode}.", null, isTransient: false);
            }

            return ParseResponse(method, payload);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChainException($"{method}: no answer from {Endpoint} within {_options.RequestTimeout.TotalSeconds:0.###} s.", exception, isTransient: true);
        }
        catch (HttpRequestException exception)
        {
            throw new ChainException($"{method}: cannot reach the node at {Endpoint}: {exception.Message}", exception, isTransient: true);
        }
    }

    private JsonElement ParseResponse(string method, byte[] payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException exception)
        {
            throw new ChainException($"{method}: the node at {Endpoint} answered with invalid JSON: {exception.Message}", exception, isTransient: false);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ChainException($"{method}: the node at {Endpoint} answered with a JSON {root.ValueKind}, not a JSON-RPC response.", null, isTransient: false);
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                throw ToException(method, error);
            }

            if (!root.TryGetProperty("result", out var result))
            {
                throw new ChainException($"{method}: the node at {Endpoint} answered without a result or an error.", null, isTransient: false);
            }

            return result.Clone();
        }
    }

    private ChainException ToException(string method, JsonElement error)
    {
        var code = error.TryGetProperty("code", out var codeElement) && codeElement.TryGetInt32(out var value) ? value : (int?)null;
        var message = error.TryGetProperty("message", out var messageElement) && messageElement.ValueKind == JsonValueKind.String
            ? messageElement.GetString() ?? string.Empty
            : error.ToString();
        byte[]? revertData = null;
        if (error.TryGetProperty("data", out var data))
        {
            var hex = data.ValueKind switch
            {
                JsonValueKind.String => data.GetString(),
                JsonValueKind.Object when data.TryGetProperty("data", out var inner) && inner.ValueKind == JsonValueKind.String => inner.GetString(),
                _ => null,
            };
            if (hex is not null && hex.StartsWith("0x", StringComparison.Ordinal))
            {
                revertData = Core.Codecs.Hex.TryDecode(hex);
            }
        }

        string? reason = null;
        if (revertData is { Length: >= 4 })
        {
            try
            {
                reason = RevertDecoder(revertData);
            }
#pragma warning disable CA1031 // a decoder bug must not hide the node's error
            catch (Exception)
#pragma warning restore CA1031
            {
                reason = null;
            }
        }

        var transient = code is -32005 or 429;
        var text = reason is null
            ? $"{method} failed: {message} (code {code?.ToString(CultureInfo.InvariantCulture) ?? "none"})"
            : $"{method} reverted: {reason} (node: {message})";
        return new ChainException(text, null, transient, code, message, revertData, reason);
    }
}
