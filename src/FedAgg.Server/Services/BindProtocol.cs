using FedAgg.Core.Codecs;
using FedAgg.Core.Protocol;
using FedAgg.Grains.Runtime;
using FedAgg.Libp2p;
using FedAgg.Server.Grains;
using FedAgg.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Services;

/// <summary><c>/fedagg/bind/1.0.0</c>: the connection's peer binds the Ethereum address its credits go to (docs/PROTOCOL.md).</summary>
internal sealed class BindProtocol(IGrainFactory grains, FedAggServerOptions options, ILogger logger)
{
    public const string ProtocolId = "/fedagg/bind/1.0.0";

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var (bytes, problem) = await RequestStream.ReadAsync(stream, BindRequest.MaxEncodedLength, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        BindResponse response;
        var address = "";
        if (bytes is null)
        {
            response = new BindResponse(ServiceStatus.Malformed, problem!);
        }
        else if (!BindRequest.TryDecode(bytes.Value.Span, out var request, out var error))
        {
            response = new BindResponse(ServiceStatus.Malformed, error);
        }
        else if (request.ChainId != options.ChainId || !request.Ledger.Span.SequenceEqual(options.LedgerBytes))
        {
            response = new BindResponse(ServiceStatus.WrongChain,
                $"this server anchors on chain {options.ChainId} ledger {Hex.Encode(options.LedgerBytes)}, not chain {request.ChainId} ledger {Hex.Encode(request.Ledger.Span)}");
        }
        else
        {
            address = Hex.Encode(request.Address.Span);
            var record = new AddressBindingRecord(request.ChainId, Hex.Encode(request.Ledger.Span), address, Hex.Encode(request.Signature.Span));
            var bound = await grains.GetGrain<IParticipantGrain>(stream.RemotePeer.ToString()).BindAddressAsync(record).ConfigureAwait(false);
            response = bound
                ? new BindResponse(ServiceStatus.Ok, "")
                : new BindResponse(ServiceStatus.BadSignature, "the signature is not this peer's over FEDAGG-BIND-V1 ‖ chainId ‖ ledger ‖ address");
        }

        Log.BindAnswered(logger, stream.RemotePeer, (uint)response.Status, address);
        await RequestStream.RespondAsync(stream, response.Encode(), default, cancellationToken).ConfigureAwait(false);
    }
}
