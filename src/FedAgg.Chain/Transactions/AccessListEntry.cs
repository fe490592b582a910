using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Transactions;

/// <summary>One EIP-2930 access-list entry: an address and the storage slots the transaction declares it will touch.</summary>
/// <param name="Address">The account.</param>
/// <param name="StorageKeys">The storage slots.</param>
public sealed record AccessListEntry(EthereumAddress Address, IReadOnlyList<Bytes32> StorageKeys);
