using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using Google.Protobuf;

namespace FedAgg.Core.Tests.Updates;

public sealed class SubmitMessagesTests
{
    [Fact]
    public void SubmitRequest_Encode_MatchesGoogleProtobufAndDecodes()
    {
        using var key = Ed25519PrivateKey.Generate();
        var request = SubmitRequest.Create(UpdateSamples.Preimage(), key);

        var expected = GoogleEncode(output =>
        {
            WriteBytes(output, 1, request.Preimage);
            WriteBytes(output, 2, request.Signature);
            WriteBytes(output, 3, request.PublicKey);
        });

        Assert.Equal(expected, request.Encode());
        Assert.True(SubmitRequest.TryDecode(expected, out var decoded, out _));
        Assert.Equal(request.Preimage.ToArray(), decoded.Preimage.ToArray());
        Assert.Equal(request.Signature.ToArray(), decoded.Signature.ToArray());
        Assert.Equal(request.PublicKey.ToArray(), decoded.PublicKey.ToArray());
        Assert.True(key.PublicKey.Verify(decoded.Preimage.Span, decoded.Signature.Span));
    }

    [Fact]
    public void SubmitRequest_TryDecode_SkipsUnknownFieldsAcceptsAnyOrder()
    {
        using var key = Ed25519PrivateKey.Generate();
        var request = SubmitRequest.Create(UpdateSamples.Preimage(), key);
        var bytes = GoogleEncode(output =>
        {
            output.WriteTag(9, WireFormat.WireType.Varint);
            output.WriteUInt64(12345);
            WriteBytes(output, 3, request.PublicKey);
            output.WriteTag(10, WireFormat.WireType.Fixed32);
            output.WriteFixed32(7);
            WriteBytes(output, 2, request.Signature);
            WriteBytes(output, 11, new byte[] { 1, 2, 3 });
            WriteBytes(output, 1, request.Preimage);
        });

        Assert.True(SubmitRequest.TryDecode(bytes, out var decoded, out _));
        Assert.Equal(request.Preimage.ToArray(), decoded.Preimage.ToArray());
    }

    [Fact]
    public void SubmitRequest_TryDecode_RejectsMissingRepeatedWrongTypeAndOversized()
    {
        using var key = Ed25519PrivateKey.Generate();
        var request = SubmitRequest.Create(UpdateSamples.Preimage(), key);

        var missing = GoogleEncode(output => { WriteBytes(output, 1, request.Preimage); WriteBytes(output, 2, request.Signature); });
        Assert.False(SubmitRequest.TryDecode(missing, out _, out var missingError));
        Assert.Contains("no public key", missingError, StringComparison.Ordinal);

        var repeated = GoogleEncode(output =>
        {
            WriteBytes(output, 1, request.Preimage);
            WriteBytes(output, 1, request.Preimage);
            WriteBytes(output, 2, request.Signature);
            WriteBytes(output, 3, request.PublicKey);
        });
        Assert.False(SubmitRequest.TryDecode(repeated, out _, out _));

        var wrongType = GoogleEncode(output => { output.WriteTag(1, WireFormat.WireType.Varint); output.WriteUInt32(5); });
        Assert.False(SubmitRequest.TryDecode(wrongType, out _, out _));

        var hugePreimage = GoogleEncode(output => WriteBytes(output, 1, new byte[UpdatePreimage.MaxLength + 1]));
        Assert.False(SubmitRequest.TryDecode(hugePreimage, out _, out _));

        Assert.False(SubmitRequest.TryDecode(new byte[SubmitRequest.MaxEncodedLength + 1], out _, out _));
    }

    [Fact]
    public void SubmitRequest_TryDecode_EveryTruncation_RejectedWithoutThrowing()
    {
        using var key = Ed25519PrivateKey.Generate();
        var encoded = SubmitRequest.Create(UpdateSamples.Preimage(), key).Encode();
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.False(SubmitRequest.TryDecode(encoded.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void SubmitRequest_TryDecode_RandomBytes_NeverThrow()
    {
        var random = new Random(17);
        var buffer = new byte[600];
        for (var i = 0; i < 30_000; i++)
        {
            random.NextBytes(buffer);
            buffer[0] = (byte)(random.Next(2) == 0 ? 0x0A : buffer[0]);
            _ = SubmitRequest.TryDecode(buffer.AsSpan(0, random.Next(buffer.Length)), out _, out _);
            _ = SubmitReceipt.TryDecode(buffer.AsSpan(0, random.Next(buffer.Length)), out _, out _);
        }
    }

    [Fact]
    public void SubmitReceipt_Signed_VerifiesAndMatchesGoogleProtobuf()
    {
        using var server = Ed25519PrivateKey.Generate();
        var updateId = UpdatePreimage.ComputeUpdateId(UpdateSamples.Preimage().Encode());
        var receipt = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, updateId, 42, 1_700_000_000_123, server);

        var expected = GoogleEncode(output =>
        {
            WriteBytes(output, 3, updateId);
            output.WriteTag(4, WireFormat.WireType.Varint);
            output.WriteUInt64(42);
            output.WriteTag(5, WireFormat.WireType.Varint);
            output.WriteUInt64(1_700_000_000_123);
            WriteBytes(output, 6, receipt.ServerSignature);
            WriteBytes(output, 7, server.PublicKey.ToProtobuf());
        });

        Assert.Equal(expected, receipt.Encode());
        Assert.True(SubmitReceipt.TryDecode(expected, out var decoded, out _));
        Assert.Equal(receipt, decoded);
        Assert.True(decoded.VerifyServerSignature());
        Assert.True(decoded.VerifyServerSignature(server.PeerId));
    }

    [Fact]
    public void SubmitReceipt_SignedBytes_FollowProtocolLayout()
    {
        var updateId = Enumerable.Range(0, 32).Select(static i => (byte)i).ToArray();

        var bytes = SubmitReceipt.CreateSignedBytes(updateId, 0x0102030405060708, 0x1112131415161718);

        byte[] expected = [.. "FEDAGG-RECEIPT-V1"u8, .. updateId, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void SubmitReceipt_Tampered_DoesNotVerify()
    {
        using var server = Ed25519PrivateKey.Generate();
        using var impostor = Ed25519PrivateKey.Generate();
        var receipt = SubmitReceipt.CreateSigned(SubmitStatus.Accepted, new byte[32], 1, 1000, server);

        Assert.False((receipt with { Sequence = 2 }).VerifyServerSignature());
        Assert.False((receipt with { ReceivedUnixMs = 1001 }).VerifyServerSignature());
        Assert.False((receipt with { UpdateId = new byte[32].Select(static _ => (byte)1).ToArray() }).VerifyServerSignature());
        Assert.False(receipt.VerifyServerSignature(impostor.PeerId));
        Assert.False((receipt with { Status = SubmitStatus.BadSignature }).VerifyServerSignature());
    }

    [Fact]
    public void SubmitReceipt_Rejection_RoundTripsStatusAndReason()
    {
        var receipt = SubmitReceipt.Reject(SubmitStatus.StaleBaseModel, "computed from model 0xab…, round 4 starts from 0xcd…");

        Assert.True(SubmitReceipt.TryDecode(receipt.Encode(), out var decoded, out _));
        Assert.Equal(SubmitStatus.StaleBaseModel, decoded.Status);
        Assert.Equal(receipt.Reason, decoded.Reason);
        Assert.False(decoded.IsStored);
        Assert.Throws<ArgumentException>(() => SubmitReceipt.Reject(SubmitStatus.Accepted, "no"));
    }

    [Fact]
    public void SubmitReceipt_LongReason_CutAtCharacterBoundary()
    {
        var receipt = SubmitReceipt.Reject(SubmitStatus.Malformed, new string('é', 2000));

        Assert.True(SubmitReceipt.TryDecode(receipt.Encode(), out var decoded, out _));
        Assert.Equal(new string('é', SubmitReceipt.MaxReasonBytes / 2), decoded.Reason);
    }

    [Fact]
    public void AddressBinding_SignsProtocolBytes_AndVerifiesOnlyTheBoundAddress()
    {
        using var participant = Ed25519PrivateKey.Generate();
        using var squatter = Ed25519PrivateKey.Generate();
        var ledger = Enumerable.Range(1, 20).Select(static i => (byte)i).ToArray();
        var address = Enumerable.Range(101, 20).Select(static i => (byte)i).ToArray();
        var other = Enumerable.Range(201, 20).Select(static i => (byte)i).ToArray();

        var signature = AddressBinding.Sign(participant, 31337, ledger, address);

        byte[] expected = [.. "FEDAGG-BIND-V1"u8, 0, 0, 0, 0, 0, 0, 0x7A, 0x69, .. ledger, .. address];
        Assert.Equal(expected, AddressBinding.CreateSignedBytes(31337, ledger, address));
        Assert.True(participant.PublicKey.Verify(expected, signature));
        Assert.True(AddressBinding.Verify(participant.PublicKey, 31337, ledger, address, signature));
        Assert.False(AddressBinding.Verify(participant.PublicKey, 31337, ledger, other, signature));
        Assert.False(AddressBinding.Verify(participant.PublicKey, 1, ledger, address, signature));
        Assert.False(AddressBinding.Verify(squatter.PublicKey, 31337, ledger, address, signature));
    }

    private static byte[] GoogleEncode(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static void WriteBytes(CodedOutputStream output, int field, ReadOnlyMemory<byte> value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(value.Span));
    }
}
