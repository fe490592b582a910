// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title FedAggLedger
/// @notice Anchors every FedAgg training round of a task on chain (an append-only chain of model hashes with the
/// Merkle roots of the accepted updates and of the contributors' credits) and lets contributors claim their credits
/// with a Merkle proof into a non-transferable balance.
/// @dev Roles: DEFAULT_ADMIN_ROLE grants and revokes roles and pauses; COORDINATOR_ROLE registers tasks; ANCHOR_ROLE
/// (the aggregation server's key) anchors rounds. While paused, registerTask, anchorRound and claim revert with
/// EnforcedPause. Credits are a cumulative Merkle drop: each round's credits tree holds every account's cumulative
/// total, leaves `keccak256(bytes.concat(keccak256(abi.encode(address account, uint256 cumulativeAmount))))`
/// (OpenZeppelin StandardMerkleTree), and a claim pays the difference to what the account already claimed.
contract FedAggLedger is AccessControl, Pausable {
    /// @notice The role of the aggregation server's key: `keccak256("ANCHOR_ROLE")`.
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    /// @notice The role of the coordinator's key: `keccak256("COORDINATOR_ROLE")`.
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");

    /// @dev Everything anchorRound and claim read and write about a task except its roots, in one slot.
    struct TaskHeader {
        uint64 lastRound;
        uint64 claimDelay;
        // When the latest credits root was anchored (0 before round 1).
        uint64 creditsRootAnchoredAt;
        // The block time of registerTask; nonzero exactly when the task is registered.
        uint64 registeredAt;
    }

    /// @dev A task's storage: consecutive slots under one mapping key, so one keccak locates them all.
    struct Task {
        TaskHeader header;
        bytes32 settingsHash;
        bytes32 latestModelHash;
        // The latest anchored credits root; claimable claimDelay seconds after creditsRootAnchoredAt.
        bytes32 creditsRoot;
        // Only written when claimDelay > 0: the newest credits root that had matured when a later one was anchored.
        bytes32 maturedCreditsRoot;
        mapping(uint64 round => bytes32) roundCommitment;
        mapping(address account => uint256) claimed;
    }

    mapping(bytes32 taskKey => Task) private _tasks;
    mapping(address account => uint256) private _credits;

    /// @notice A task was registered.
    event TaskRegistered(bytes32 indexed taskKey, bytes32 settingsHash, bytes32 initialModelHash, uint64 claimDelay);

    /// @notice A round was anchored; `keccak256(abi.encode(taskKey, round, parentModelHash, modelHash, updatesRoot,
    /// creditsRoot, settingsHash, acceptedCount))` is now `roundCommitment(taskKey, round)`.
    event RoundAnchored(
        bytes32 indexed taskKey,
        uint64 indexed round,
        bytes32 parentModelHash,
        bytes32 modelHash,
        bytes32 updatesRoot,
        bytes32 creditsRoot,
        bytes32 settingsHash,
        uint32 acceptedCount
    );

    /// @notice `amount` credits were paid to `account` for task `taskKey`, which has now claimed `cumulativeAmount`.
    event CreditsClaimed(bytes32 indexed taskKey, address indexed account, uint256 amount, uint256 cumulativeAmount);

    /// @notice An address argument was the zero address.
    error ZeroAddress();

    /// @notice registerTask for a task key that is already registered.
    error TaskAlreadyRegistered(bytes32 taskKey);

    /// @notice anchorRound or claim for a task key that was never registered.
    error UnknownTask(bytes32 taskKey);

    /// @notice anchorRound for a round other than `lastRound(taskKey) + 1`.
    error RoundOutOfOrder(uint64 expected, uint64 got);

    /// @notice anchorRound whose parentModelHash is not the task's latest model hash.
    error ParentModelMismatch(bytes32 expected, bytes32 got);

    /// @notice anchorRound whose settingsHash is not the one the task was registered with.
    error SettingsMismatch(bytes32 expected, bytes32 got);

    /// @notice claim whose proof does not lead from the leaf to the claimable credits root.
    error InvalidProof();

    /// @notice claim whose cumulative amount is not above what the account already claimed.
    error NothingToClaim();

    /// @notice claim whose proof is valid for the latest credits root, which is still in its claim delay until
    /// `claimableAt` (a unix time in seconds).
    error CreditsNotYetClaimable(bytes32 taskKey, uint256 claimableAt);

    /// @param admin Gets DEFAULT_ADMIN_ROLE (grants roles, pauses and unpauses).
    /// @param anchor Gets ANCHOR_ROLE (the aggregation server's key).
    /// @param coordinator Gets COORDINATOR_ROLE (registers tasks).
    constructor(address admin, address anchor, address coordinator) {
        if (admin == address(0) || anchor == address(0) || coordinator == address(0)) {
            revert ZeroAddress();
        }

        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHOR_ROLE, anchor);
        _grantRole(COORDINATOR_ROLE, coordinator);
    }

    /// @notice Pauses registerTask, anchorRound and claim (DEFAULT_ADMIN_ROLE).
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Ends a pause (DEFAULT_ADMIN_ROLE).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @notice Registers a task whose credits are claimable as soon as they are anchored (COORDINATOR_ROLE).
    /// @param taskKey `keccak256(bytes(taskId))`.
    /// @param settingsHash The hash of the task's aggregation settings; every round must anchor exactly this value.
    /// @param initialModelHash The hash of the initial model: round 1's parent.
    function registerTask(bytes32 taskKey, bytes32 settingsHash, bytes32 initialModelHash) external {
        _registerTask(taskKey, settingsHash, initialModelHash, 0);
    }

    /// @notice Registers a task with a claim delay (COORDINATOR_ROLE): a round's credits root becomes claimable only
    /// `claimDelay` seconds after it was anchored, a window in which a bad round can be challenged (and the ledger
    /// paused) before anyone claims from it.
    /// @param taskKey `keccak256(bytes(taskId))`.
    /// @param settingsHash The hash of the task's aggregation settings; every round must anchor exactly this value.
    /// @param initialModelHash The hash of the initial model: round 1's parent.
    /// @param claimDelay Seconds from anchoring to claimable; 0 for none.
    function registerTask(bytes32 taskKey, bytes32 settingsHash, bytes32 initialModelHash, uint64 claimDelay)
        external
    {
        _registerTask(taskKey, settingsHash, initialModelHash, claimDelay);
    }

    /// @notice Anchors round `round` of task `taskKey` (ANCHOR_ROLE): stores its commitment, makes `modelHash` the
    /// task's latest model and `creditsRoot` its latest credits root.
    /// @dev Requires the task registered, `round == lastRound(taskKey) + 1`, `parentModelHash ==
    /// latestModelHash(taskKey)` (the initial model for round 1) and `settingsHash` equal to the registered one.
    /// Writes one new slot per round (the commitment); the task's header, latest model hash and credits root are
    /// overwritten in place.
    function anchorRound(
        bytes32 taskKey,
        uint64 round,
        bytes32 parentModelHash,
        bytes32 modelHash,
        bytes32 updatesRoot,
        bytes32 creditsRoot_,
        bytes32 settingsHash,
        uint32 acceptedCount
    ) external onlyRole(ANCHOR_ROLE) whenNotPaused {
        Task storage task = _tasks[taskKey];
        TaskHeader memory header = task.header;
        if (header.registeredAt == 0) {
            revert UnknownTask(taskKey);
        }

        uint64 expected;
        unchecked {
            // 2^64 − 1 rounds cannot be anchored, so lastRound + 1 cannot wrap.
            expected = header.lastRound + 1;
        }

        if (round != expected) {
            revert RoundOutOfOrder(expected, round);
        }

        bytes32 latestModel = task.latestModelHash;
        if (parentModelHash != latestModel) {
            revert ParentModelMismatch(latestModel, parentModelHash);
        }

        bytes32 registeredSettings = task.settingsHash;
        if (settingsHash != registeredSettings) {
            revert SettingsMismatch(registeredSettings, settingsHash);
        }

        task.roundCommitment[round] = computeRoundCommitment(
            taskKey, round, parentModelHash, modelHash, updatesRoot, creditsRoot_, settingsHash, acceptedCount
        );

        if (header.claimDelay != 0) {
            _retireCreditsRoot(task, header);
        }

        header.lastRound = round;
        header.creditsRootAnchoredAt = uint64(block.timestamp);
        task.header = header;
        task.latestModelHash = modelHash;
        task.creditsRoot = creditsRoot_;
        emit RoundAnchored(
            taskKey, round, parentModelHash, modelHash, updatesRoot, creditsRoot_, settingsHash, acceptedCount
        );
    }

    /// @notice Pays `account` the credits of task `taskKey` that it has not claimed yet: `cumulativeAmount` minus
    /// `claimed(taskKey, account)`, into the non-transferable `credits(account)`. Anyone may submit it for any account:
    /// the credits only ever go to `account`.
    /// @param taskKey The task.
    /// @param account The account in the credits tree.
    /// @param cumulativeAmount The account's cumulative total in the claimable credits root.
    /// @param proof The sibling hashes from the leaf up (OpenZeppelin StandardMerkleTree `getProof`).
    /// @return amount The credits paid.
    function claim(bytes32 taskKey, address account, uint256 cumulativeAmount, bytes32[] calldata proof)
        external
        whenNotPaused
        returns (uint256 amount)
    {
        Task storage task = _tasks[taskKey];
        TaskHeader memory header = task.header;
        if (header.registeredAt == 0) {
            revert UnknownTask(taskKey);
        }

        if (account == address(0)) {
            revert ZeroAddress();
        }

        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        uint256 latestClaimableAt = uint256(header.creditsRootAnchoredAt) + header.claimDelay;
        if (header.claimDelay == 0 || block.timestamp >= latestClaimableAt) {
            if (!MerkleProof.verifyCalldata(proof, task.creditsRoot, leaf)) {
                revert InvalidProof();
            }
        } else if (!MerkleProof.verifyCalldata(proof, task.maturedCreditsRoot, leaf)) {
            if (MerkleProof.verifyCalldata(proof, task.creditsRoot, leaf)) {
                revert CreditsNotYetClaimable(taskKey, latestClaimableAt);
            }

            revert InvalidProof();
        }

        uint256 alreadyClaimed = task.claimed[account];
        if (cumulativeAmount <= alreadyClaimed) {
            revert NothingToClaim();
        }

        unchecked {
            amount = cumulativeAmount - alreadyClaimed;
        }

        task.claimed[account] = cumulativeAmount;
        _credits[account] += amount;
        emit CreditsClaimed(taskKey, account, amount, cumulativeAmount);
    }

    /// @notice The last anchored round of a task (0 before round 1 or for an unknown task).
    function lastRound(bytes32 taskKey) external view returns (uint64) {
        return _tasks[taskKey].header.lastRound;
    }

    /// @notice The commitment of an anchored round (zero if not anchored): see computeRoundCommitment.
    function roundCommitment(bytes32 taskKey, uint64 round) external view returns (bytes32) {
        return _tasks[taskKey].roundCommitment[round];
    }

    /// @notice The model hash of the last anchored round, or the initial model hash before round 1.
    function latestModelHash(bytes32 taskKey) external view returns (bytes32) {
        return _tasks[taskKey].latestModelHash;
    }

    /// @notice The credits root of the last anchored round (zero before round 1), claimable from claimableAt.
    function creditsRoot(bytes32 taskKey) external view returns (bytes32) {
        return _tasks[taskKey].creditsRoot;
    }

    /// @notice The credits root claims verify against now: creditsRoot once its delay has passed, else the last root
    /// that had matured when a later one was anchored (zero if none).
    function claimableCreditsRoot(bytes32 taskKey) external view returns (bytes32) {
        Task storage task = _tasks[taskKey];
        TaskHeader memory header = task.header;
        return header.claimDelay == 0 || block.timestamp >= uint256(header.creditsRootAnchoredAt) + header.claimDelay
            ? task.creditsRoot
            : task.maturedCreditsRoot;
    }

    /// @notice The unix time (seconds) from which the latest credits root is claimable: its anchoring time plus the
    /// task's claim delay (0 before round 1).
    function claimableAt(bytes32 taskKey) external view returns (uint256) {
        TaskHeader memory header = _tasks[taskKey].header;
        return header.creditsRootAnchoredAt == 0 ? 0 : uint256(header.creditsRootAnchoredAt) + header.claimDelay;
    }

    /// @notice What `account` has claimed of task `taskKey` so far (its cumulative amount at its last claim).
    function claimed(bytes32 taskKey, address account) external view returns (uint256) {
        return _tasks[taskKey].claimed[account];
    }

    /// @notice An account's credit balance over all tasks; credits cannot be transferred.
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice Everything stored about a task except its round commitments and claims; `registeredAt` (the block time
    /// of registerTask) is 0 for an unknown task.
    function taskInfo(bytes32 taskKey)
        external
        view
        returns (
            uint64 registeredAt,
            bytes32 settingsHash,
            uint64 claimDelay,
            uint64 lastRound_,
            bytes32 latestModelHash_,
            bytes32 creditsRoot_,
            uint64 creditsRootAnchoredAt,
            bytes32 maturedCreditsRoot
        )
    {
        Task storage task = _tasks[taskKey];
        TaskHeader memory header = task.header;
        return (
            header.registeredAt,
            task.settingsHash,
            header.claimDelay,
            header.lastRound,
            task.latestModelHash,
            task.creditsRoot,
            header.creditsRootAnchoredAt,
            task.maturedCreditsRoot
        );
    }

    /// @notice The commitment anchorRound stores for a round: `keccak256(abi.encode(taskKey, round, parentModelHash,
    /// modelHash, updatesRoot, creditsRoot, settingsHash, acceptedCount))`.
    function computeRoundCommitment(
        bytes32 taskKey,
        uint64 round,
        bytes32 parentModelHash,
        bytes32 modelHash,
        bytes32 updatesRoot,
        bytes32 creditsRoot_,
        bytes32 settingsHash,
        uint32 acceptedCount
    ) public pure returns (bytes32) {
        return keccak256(
            abi.encode(taskKey, round, parentModelHash, modelHash, updatesRoot, creditsRoot_, settingsHash, acceptedCount)
        );
    }

    /// @dev Before a delayed task's credits root is replaced: if it has served its delay, claims fall back to it until
    /// the new one matures. A root replaced before it matured never becomes claimable; the newer, cumulative one
    /// supersedes it.
    function _retireCreditsRoot(Task storage task, TaskHeader memory header) private {
        if (
            header.creditsRootAnchoredAt != 0
                && block.timestamp >= uint256(header.creditsRootAnchoredAt) + header.claimDelay
        ) {
            task.maturedCreditsRoot = task.creditsRoot;
        }
    }

    function _registerTask(bytes32 taskKey, bytes32 settingsHash, bytes32 initialModelHash, uint64 claimDelay)
        private
        onlyRole(COORDINATOR_ROLE)
        whenNotPaused
    {
        Task storage task = _tasks[taskKey];
        if (task.header.registeredAt != 0) {
            revert TaskAlreadyRegistered(taskKey);
        }

        task.header = TaskHeader({
            lastRound: 0, claimDelay: claimDelay, creditsRootAnchoredAt: 0, registeredAt: uint64(block.timestamp)
        });
        task.settingsHash = settingsHash;
        task.latestModelHash = initialModelHash;
        emit TaskRegistered(taskKey, settingsHash, initialModelHash, claimDelay);
    }
}
