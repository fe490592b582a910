using FedAgg.Core.Protocol;
using FedAgg.Libp2p;
using FedAgg.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace FedAgg.Server.Services;

/// <summary>
/// <c>/fedagg/admin/1.0.0</c>: coordinator commands. Only peers in <see cref="FedAggServerOptions.Coordinators"/> are
/// served (others get status 4, and the attempt is logged); every command is logged with the coordinator's peer id.
/// </summary>
internal sealed class AdminProtocol(AdminCommands commands, FedAggServerOptions options, ILogger logger)
{
    public const string ProtocolId = "/fedagg/admin/1.0.0";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    public async Task HandleAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var peer = stream.RemotePeer;
        var (bytes, problem) = await RequestStream.ReadAsync(stream, AdminRequest.MaxEncodedLength, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        AdminResponse response;
        var command = "?";
        if (bytes is null)
        {
            response = new AdminResponse(ServiceStatus.Malformed, problem!, "");
        }
        else if (!AdminRequest.TryDecode(bytes.Value.Span, out var request, out var error))
        {
            response = new AdminResponse(ServiceStatus.Malformed, error, "");
        }
        else if (!options.Coordinators.Contains(peer.ToString()))
        {
            command = request.Command;
            Log.AdminRefused(logger, command, peer);
            response = new AdminResponse(ServiceStatus.NotAdmitted, $"{peer} is not a coordinator of this server", "");
        }
        else
        {
            command = request.Command;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(CommandTimeout);
                response = new AdminResponse(ServiceStatus.Ok, "", await commands.RunAsync(request.Command, request.ArgumentsJson, timeout.Token).ConfigureAwait(false));
            }
            catch (AdminCommandException e)
            {
                response = new AdminResponse(e.Status, Truncate(e.Message), "");
            }
        }

        if (response.Status != ServiceStatus.NotAdmitted)
        {
            Log.AdminCommand(logger, command, peer, (uint)response.Status);
        }

        await RequestStream.RespondAsync(stream, response.Encode(), default, cancellationToken).ConfigureAwait(false);
    }

    private static string Truncate(string message) => message.Length <= 900 ? message : message[..900] + "…";
}
