// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title zkai curated lists: public sets (an opt-out list, an allow list) whose roots a named curator publishes.
/// @notice A dataset policy checks each record's id against a registry (NOT-MEMBER-OF an opt-out list, MEMBER-OF an
/// allow list); the proof publishes the registry's root. A root the data holder chose would let it prove against a
/// list of its own, so a circuit registered in ZkaiRegistry binds each such signal to a list here, and only the
/// list's curator (or this contract's owner) publishes its roots, never the data holder. A replaced root stays valid
/// for the list's window (seconds), so proofs made just before an update can still be attested; 0 refuses them at once.
/// A list's id is keccak256 of its name. Only roots are on chain: the list itself is published off chain by its
/// curator (a zkai registry file, whose root anyone can rebuild).
contract ListRegistry {
    struct CuratedList {
        address curator;
        uint64 window;
        uint64 updated; // when the current root was published (0: none yet)
        uint256 root; // current root (0: none yet)
        string name;
    }

    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    error NotOwner(address caller, address owner);
    error ListExists(bytes32 list);
    error ListUnknown(bytes32 list);
    error NotCurator(bytes32 list, address caller, address curator);
    error BadList(string reason);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ListCreated(bytes32 indexed list, string name, address curator, uint64 window);
    event ListCuratorChanged(bytes32 indexed list, address curator);
    event ListRootPublished(bytes32 indexed list, uint256 previous, uint256 root);

    address public owner;
    mapping(bytes32 => CuratedList) internal lists;
    /// @notice When a list's root was replaced (0: never, or not a root of it).
    mapping(bytes32 => mapping(uint256 => uint256)) public supersededAt;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Hand the lists (creating lists, naming curators) to another owner.
    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Create a list (owner only) and name its curator. Its id is keccak256(name).
    function createList(string calldata name, address curator, uint64 window) external onlyOwner returns (bytes32 id) {
        id = keccak256(bytes(name));
        if (bytes(name).length == 0) revert BadList("a list needs a name");
        if (curator == address(0)) revert BadList("a list needs a curator");
        if (lists[id].curator != address(0)) revert ListExists(id);
        CuratedList storage list = lists[id];
        list.curator = curator;
        list.window = window;
        list.name = name;
        emit ListCreated(id, name, curator, window);
    }

    /// @notice Name another curator for a list (owner only).
    function setCurator(bytes32 id, address curator) external onlyOwner {
        if (lists[id].curator == address(0)) revert ListUnknown(id);
        if (curator == address(0)) revert BadList("a list needs a curator");
        lists[id].curator = curator;
        emit ListCuratorChanged(id, curator);
    }

    /// @notice Publish a list's new root (its curator, or the owner). The root it replaces stays valid for the window.
    function publishRoot(bytes32 id, uint256 root) external {
        CuratedList storage list = lists[id];
        if (list.curator == address(0)) revert ListUnknown(id);
        if (msg.sender != list.curator && msg.sender != owner) revert NotCurator(id, msg.sender, list.curator);
        if (root == 0 || root >= R) revert BadList("a list root must be a non-zero field element");
        uint256 previous = list.root;
        if (previous == root) return;
        if (previous != 0) supersededAt[id][previous] = block.timestamp;
        list.root = root;
        list.updated = uint64(block.timestamp);
        emit ListRootPublished(id, previous, root);
    }

    /// @notice True if `root` is the list's current root, or was replaced less than its window ago. False for an
    /// unknown list (never reverts, so a verifier can use it directly).
    function isKnownRoot(bytes32 id, uint256 root) external view returns (bool) {
        CuratedList storage list = lists[id];
        if (root == 0 || list.curator == address(0)) return false;
        if (root == list.root) return true;
        uint256 replaced = supersededAt[id][root];
        return replaced != 0 && block.timestamp - replaced < list.window;
    }

    /// @notice The curator of a list (zero address: no such list).
    function curatorOf(bytes32 id) external view returns (address) {
        return lists[id].curator;
    }

    /// @notice A list (curator zero: unknown).
    function getList(bytes32 id) external view returns (CuratedList memory) {
        return lists[id];
    }
}
