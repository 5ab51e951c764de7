// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice The Poseidon(2) hash contract that circomlibjs generates (`poseidonContract.createCode(2)`), BN254,
/// circomlib parameters: the same function as `poseidon2` of poseidon-lite and circomlib's `Poseidon(2)` template.
interface IPoseidon2 {
    function poseidon(uint256[2] calldata) external pure returns (uint256);
}

/// @notice The Poseidon(3) hash contract of circomlibjs (`poseidonContract.createCode(3)`): circomlib's `Poseidon(3)`.
interface IPoseidon3 {
    function poseidon(uint256[3] calldata) external pure returns (uint256);
}

/// @title ConsentRegistry
/// @notice Public consent sets, one per purpose, each committed as the root of a fixed-depth binary Poseidon(2)
/// Merkle tree. A proof about private data can then show that each record's consent leaf lies under a root this
/// contract knows (`isKnownRoot`).
///
/// Consent belongs to the subject: a data subject IS an account, and the contract derives the leaf from that account
/// (`accountLeaf(a) = Poseidon3(a + 1, 0, a)`, exactly the leaf zkai's dataset circuits accept for a record whose
/// consent column, of type address, holds `a`). Nobody chooses a leaf, so a data holder cannot grant consent for the
/// accounts in its data: only the account itself (`grant`, or a signature by it that anyone relays: `grantBySig`,
/// EIP-712) or the one delegate it named (`setDelegate`, `setDelegateBySig`) can. The same goes for revocation, and
/// since only the subject's own leaf can be appended for it, no one else can undo a revocation. A subject holds at most
/// one live grant per purpose. A revocation, a delegate change and `cancelSignatures` use up the subject's nonce, so a
/// signed request someone kept cannot undo them. Trade-off: which account consented to which purpose is public (a salt would hide
/// nothing: the account is in the transaction). Subjects who want unlinkable consents use a fresh account per purpose,
/// and relayed signatures let that account hold no ether.
///
/// Tree: leaf `i` is the i-th granted leaf (0 once revoked, and for never-granted positions); zero subtree roots are
/// zeros[0] = 0, zeros[h + 1] = Poseidon(zeros[h], zeros[h]); a node is Poseidon(left, right). This is exactly the
/// tree of zkai's TypeScript registries (`src/data/registry.ts`), so off-chain and on-chain roots agree.
///
/// Storage layout choices (gas):
/// - Zero subtree roots are computed ONCE, in the constructor (24 Poseidon calls), and kept as immutables, i.e. in
///   the runtime bytecode: reading one costs 3 gas, where a storage copy would cost a cold SLOAD (2,100 gas) per
///   level per grant, and computing them per purpose would cost `depth` Poseidon calls and SSTOREs per purpose.
/// - Appends use a frontier: `_frontier[purpose][h]` is the most recently COMPLETED left node of level h. An append
///   writes exactly one frontier slot (the level of the first 0 bit of its index: there, a left subtree has just been
///   completed) and reads the frontier at the levels where its index bit is 1.
/// - Every leaf is stored (`leafOf`), so `revoke` knows the old leaf and checks the caller's sibling path against the
///   current root before it recomputes the root with a 0 leaf from the same (now verified) siblings. A revocation
///   changes the nodes on the leaf's path; when one of them is the frontier node that the next appends will read
///   (level h where bit h of leafCount is 1 and the node is the left sibling of that position), the frontier is
///   updated too. Other frontier slots are either not ancestors of the leaf, or are overwritten by an append before
///   they are read again.
contract ConsentRegistry {
    /// @notice The BN254 scalar field order r: siblings must be below it (leaves are Poseidon outputs, always are).
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Deepest tree a purpose may use (2^24 leaves).
    uint8 public constant MAX_DEPTH = 24;
    /// @notice Longest root window a purpose may have (30 days): a replaced root, e.g. one from before a revocation,
    /// is accepted at most this long.
    uint32 public constant MAX_ROOT_WINDOW = 30 days;
    /// @dev Poseidon(0, 0) with circomlib's parameters: the constructor checks the hash contract against it.
    uint256 private constant POSEIDON_ZERO_ZERO =
        14744269619966411208579211824598458697587494354926760081771325075741142829156;
    /// @dev Selector of `poseidon(uint256[2])`.
    uint256 private constant POSEIDON_SELECTOR = 0x29a5f2f6;
    /// @dev Poseidon3(1, 0, 0) with circomlib's parameters: the constructor checks the leaf hash contract against it.
    uint256 private constant POSEIDON3_ONE_ZERO_ZERO =
        16319005924338521988144249782199320915969277491928916027259324394544057385749;
    /// @dev secp256k1n / 2: a signature's s above it is the malleable twin of another, and refused (EIP-2).
    uint256 private constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @notice EIP-712 type of a relayed grant.
    bytes32 public constant GRANT_TYPEHASH =
        keccak256("Grant(address subject,bytes32 purpose,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a relayed revocation.
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(address subject,bytes32 purpose,uint256 index,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a relayed delegate change (delegate 0 clears it).
    bytes32 public constant DELEGATE_TYPEHASH =
        keccak256("SetDelegate(address subject,address delegate,uint256 nonce,uint256 deadline)");
    /// @dev How far a cancellation moves a subject's nonce (see `_cancelSignatures`).
    uint256 private constant NONCE_JUMP = 1 << 64;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("zkai ConsentRegistry");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @notice A subject's EIP-712 signature and the time after which it is refused.
    struct Authorization {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    struct Purpose {
        address admin; // 20 bytes  \
        uint8 depth; //   1 byte    | one slot (29 bytes)
        uint32 rootWindow; // 4     |
        uint32 leafCount; //  4     /
        uint256 root;
    }

    /// @notice The Poseidon(2) contract every node hash is computed with.
    IPoseidon2 public immutable poseidon;
    /// @notice The Poseidon(3) contract leaves are computed with (`accountLeaf`).
    IPoseidon3 public immutable poseidon3;

    // zeros[h] for h = 1..24 (zeros[0] = 0): immutables, see the contract's documentation.
    uint256 private immutable Z1;
    uint256 private immutable Z2;
    uint256 private immutable Z3;
    uint256 private immutable Z4;
    uint256 private immutable Z5;
    uint256 private immutable Z6;
    uint256 private immutable Z7;
    uint256 private immutable Z8;
    uint256 private immutable Z9;
    uint256 private immutable Z10;
    uint256 private immutable Z11;
    uint256 private immutable Z12;
    uint256 private immutable Z13;
    uint256 private immutable Z14;
    uint256 private immutable Z15;
    uint256 private immutable Z16;
    uint256 private immutable Z17;
    uint256 private immutable Z18;
    uint256 private immutable Z19;
    uint256 private immutable Z20;
    uint256 private immutable Z21;
    uint256 private immutable Z22;
    uint256 private immutable Z23;
    uint256 private immutable Z24;

    mapping(bytes32 => Purpose) private _purposes;
    /// @dev purpose => level => most recently completed left node of that level.
    mapping(bytes32 => mapping(uint256 => uint256)) private _frontier;
    /// @notice purpose => leaf index => the leaf (0 once revoked).
    mapping(bytes32 => mapping(uint256 => uint256)) public leafOf;
    /// @notice purpose => leaf index => the data subject who granted it (kept after a revocation).
    mapping(bytes32 => mapping(uint256 => address)) public subjectOf;
    /// @notice purpose => root => block.timestamp at which that root was last replaced (0: never).
    mapping(bytes32 => mapping(uint256 => uint256)) public supersededAt;
    /// @notice subject => the one address allowed to grant and revoke on their behalf (0: none).
    mapping(address => address) public delegateOf;
    /// @notice purpose => subject => 1 + the index of the subject's live grant (0: none live).
    mapping(bytes32 => mapping(address => uint256)) public liveGrantOf;
    /// @notice subject => the nonce its next EIP-712 signature must carry (each accepted signature uses one).
    mapping(address => uint256) public nonces;

    event PurposeCreated(bytes32 indexed purpose, address indexed admin, uint8 depth, uint32 rootWindow, string description);
    event ConsentGranted(bytes32 indexed purpose, uint256 index, uint256 leaf, address indexed subject, address by);
    event ConsentRevoked(bytes32 indexed purpose, uint256 index, address indexed subject, address by);
    /// @notice Emitted on every root change, and once on creation (oldRoot 0, newRoot the empty tree's root).
    event RootChanged(bytes32 indexed purpose, uint256 oldRoot, uint256 newRoot);
    /// @notice Emitted by setDelegate, clearDelegate (delegate 0) and setDelegateBySig.
    event DelegateSet(address indexed subject, address delegate);
    /// @notice A subject's outstanding signatures were cancelled: its nonce jumped to `nextNonce` (by 2^64), so no
    /// signature made before, even one with a later nonce, matches it.
    event SignaturesCancelled(address indexed subject, uint256 nextNonce);

    error NotAContract(address account);
    error WrongPoseidon(address hasher, uint256 checkHash);
    error PoseidonFailed();
    error PurposeExists(bytes32 purpose);
    error PurposeUnknown(bytes32 purpose);
    error BadDepth(uint8 depth);
    error BadRootWindow(uint32 rootWindow, uint32 max);
    error AlreadyGranted(bytes32 purpose, address subject, uint256 index);
    error ZeroSubject();
    error SignatureExpired(uint256 deadline);
    error BadSignature(address subject);
    error TreeFull(bytes32 purpose, uint8 depth);
    error NotSubjectOrDelegate(address caller, address subject);
    error ZeroDelegate();
    error UnknownIndex(bytes32 purpose, uint256 index, uint256 leafCount);
    error AlreadyRevoked(bytes32 purpose, uint256 index);
    error BadPathLength(uint256 given, uint256 depth);
    error BadSiblings(bytes32 purpose, uint256 index);

    /// @param poseidon_ a deployed circomlibjs Poseidon(2) contract; checked by hashing (0, 0).
    /// @param poseidon3_ a deployed circomlibjs Poseidon(3) contract; checked by hashing (1, 0, 0).
    constructor(IPoseidon2 poseidon_, IPoseidon3 poseidon3_) {
        address hasher = address(poseidon_);
        if (hasher.code.length == 0) revert NotAContract(hasher);
        if (address(poseidon3_).code.length == 0) revert NotAContract(address(poseidon3_));
        // A circomlibjs contract without this function hits INVALID (no revert data): report it as PoseidonFailed.
        uint256 check3;
        try poseidon3_.poseidon([uint256(1), 0, 0]) returns (uint256 h) {
            check3 = h;
        } catch {
            revert PoseidonFailed();
        }
        if (check3 != POSEIDON3_ONE_ZERO_ZERO) revert WrongPoseidon(address(poseidon3_), check3);
        poseidon = poseidon_;
        poseidon3 = poseidon3_;
        uint256 z = _hash(hasher, 0, 0);
        if (z != POSEIDON_ZERO_ZERO) revert WrongPoseidon(hasher, z);
        Z1 = z;
        z = _hash(hasher, z, z); Z2 = z;
        z = _hash(hasher, z, z); Z3 = z;
        z = _hash(hasher, z, z); Z4 = z;
        z = _hash(hasher, z, z); Z5 = z;
        z = _hash(hasher, z, z); Z6 = z;
        z = _hash(hasher, z, z); Z7 = z;
        z = _hash(hasher, z, z); Z8 = z;
        z = _hash(hasher, z, z); Z9 = z;
        z = _hash(hasher, z, z); Z10 = z;
        z = _hash(hasher, z, z); Z11 = z;
        z = _hash(hasher, z, z); Z12 = z;
        z = _hash(hasher, z, z); Z13 = z;
        z = _hash(hasher, z, z); Z14 = z;
        z = _hash(hasher, z, z); Z15 = z;
        z = _hash(hasher, z, z); Z16 = z;
        z = _hash(hasher, z, z); Z17 = z;
        z = _hash(hasher, z, z); Z18 = z;
        z = _hash(hasher, z, z); Z19 = z;
        z = _hash(hasher, z, z); Z20 = z;
        z = _hash(hasher, z, z); Z21 = z;
        z = _hash(hasher, z, z); Z22 = z;
        z = _hash(hasher, z, z); Z23 = z;
        z = _hash(hasher, z, z); Z24 = z;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Purposes

    /// @notice Create a purpose with an empty tree of 2^depth leaves. Anyone may create a purpose id once; the
    /// caller becomes its admin. The description is only emitted (PurposeCreated), not stored.
    /// @param rootWindow how many seconds a replaced root stays acceptable to `isKnownRoot`.
    function createPurpose(bytes32 purpose, uint8 depth, uint32 rootWindow, string calldata description) external {
        if (depth == 0 || depth > MAX_DEPTH) revert BadDepth(depth);
        if (rootWindow > MAX_ROOT_WINDOW) revert BadRootWindow(rootWindow, MAX_ROOT_WINDOW);
        Purpose storage p = _purposes[purpose];
        if (p.depth != 0) revert PurposeExists(purpose);
        uint256 root = _zeros()[depth];
        p.admin = msg.sender;
        p.depth = depth;
        p.rootWindow = rootWindow;
        p.root = root;
        emit PurposeCreated(purpose, msg.sender, depth, rootWindow, description);
        emit RootChanged(purpose, 0, root);
    }

    /// @notice A purpose's admin, depth, root window, number of leaves appended so far, and current root.
    function purposeInfo(bytes32 purpose)
        external
        view
        returns (address admin, uint8 depth, uint32 rootWindow, uint256 leafCount, uint256 root)
    {
        Purpose storage p = _known(purpose);
        return (p.admin, p.depth, p.rootWindow, p.leafCount, p.root);
    }

    /// @notice The purpose's current root.
    function currentRoot(bytes32 purpose) external view returns (uint256) {
        return _known(purpose).root;
    }

    /// @notice How many leaves were appended (revoked ones included): the index the next grant gets.
    function leafCount(bytes32 purpose) external view returns (uint256) {
        return _known(purpose).leafCount;
    }

    /// @notice True if `root` is the purpose's current root, or was replaced less than `rootWindow` seconds ago.
    /// False for an unknown purpose (never reverts, so a verifier can use it directly).
    function isKnownRoot(bytes32 purpose, uint256 root) external view returns (bool) {
        Purpose storage p = _purposes[purpose];
        if (p.depth == 0) return false;
        if (root == p.root) return true;
        uint256 replaced = supersededAt[purpose][root];
        return replaced != 0 && block.timestamp - replaced < p.rootWindow;
    }

    /// @notice The zero subtree roots zeros[0..24] this contract uses.
    function zeroRoots() external view returns (uint256[25] memory) {
        return _zeros();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Delegates

    /// @notice Name the one address that may grant and revoke for the caller (replaces any previous delegate).
    /// Cancels the caller's outstanding signatures (a kept SetDelegate could otherwise undo this choice).
    function setDelegate(address delegate) external {
        if (delegate == address(0)) revert ZeroDelegate();
        delegateOf[msg.sender] = delegate;
        emit DelegateSet(msg.sender, delegate);
        _cancelSignatures(msg.sender);
    }

    /// @notice Remove the caller's delegate; cancels the caller's outstanding signatures.
    function clearDelegate() external {
        delete delegateOf[msg.sender];
        emit DelegateSet(msg.sender, address(0));
        _cancelSignatures(msg.sender);
    }

    /// @notice Cancel every signature the caller made and nobody relayed yet (uses up its current nonce).
    function cancelSignatures() external {
        _cancelSignatures(msg.sender);
    }

    /// @notice Set (or, with delegate 0, clear) `subject`'s delegate by the subject's EIP-712 signature of
    /// SetDelegate(subject, delegate, nonce, deadline); anyone may send it.
    function setDelegateBySig(address subject, address delegate, Authorization calldata auth) external {
        _useSignature(subject, keccak256(abi.encode(DELEGATE_TYPEHASH, subject, delegate, nonces[subject], auth.deadline)), auth);
        delegateOf[subject] = delegate;
        emit DelegateSet(subject, delegate);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Consent

    /// @notice The leaf of `subject`'s consent: Poseidon3(subject + 1, 0, subject), what a dataset circuit computes for
    /// a record whose address column holds the subject (its registry leaf with key = value = the account).
    function accountLeaf(address subject) public view returns (uint256) {
        uint256 a = uint256(uint160(subject));
        return poseidon3.poseidon([a + 1, 0, a]);
    }

    /// @notice Grant consent as the caller: append the caller's `accountLeaf`.
    /// @return index the leaf's position in the purpose's tree.
    function grant(bytes32 purpose) external returns (uint256 index) {
        return _grant(purpose, msg.sender);
    }

    /// @notice Grant consent for `subject`; only the subject or their delegate may.
    function grantFor(address subject, bytes32 purpose) external returns (uint256 index) {
        if (msg.sender != subject && msg.sender != delegateOf[subject]) revert NotSubjectOrDelegate(msg.sender, subject);
        return _grant(purpose, subject);
    }

    /// @notice Grant consent for `subject` by its EIP-712 signature of Grant(subject, purpose, nonce, deadline);
    /// anyone may send it, once (the nonce), on this chain and this contract only (the domain).
    function grantBySig(address subject, bytes32 purpose, Authorization calldata auth) external returns (uint256 index) {
        _useSignature(subject, keccak256(abi.encode(GRANT_TYPEHASH, subject, purpose, nonces[subject], auth.deadline)), auth);
        return _grant(purpose, subject);
    }

    /// @notice Revoke consent: set leaf `index` to 0. Only its subject or their delegate may. `siblings` is the leaf's
    /// Merkle path in the current tree (level 0 first); it is checked against the current root.
    function revoke(bytes32 purpose, uint256 index, uint256[] calldata siblings) external {
        Purpose storage p = _known(purpose);
        uint256 count = p.leafCount;
        if (index >= count) revert UnknownIndex(purpose, index, count);
        address subject = subjectOf[purpose][index];
        if (msg.sender != subject && msg.sender != delegateOf[subject]) revert NotSubjectOrDelegate(msg.sender, subject);
        _revoke(purpose, p, index, count, subject, siblings);
        // A grant the subject signed earlier and someone kept must not undo this revocation.
        _cancelSignatures(subject);
    }

    /// @notice Revoke leaf `index` by the EIP-712 signature of its subject over
    /// Revoke(subject, purpose, index, nonce, deadline); anyone may send it, once.
    function revokeBySig(
        address subject,
        bytes32 purpose,
        uint256 index,
        uint256[] calldata siblings,
        Authorization calldata auth
    ) external {
        Purpose storage p = _known(purpose);
        uint256 count = p.leafCount;
        if (index >= count) revert UnknownIndex(purpose, index, count);
        if (subjectOf[purpose][index] != subject) revert NotSubjectOrDelegate(subject, subjectOf[purpose][index]);
        _useSignature(subject, keccak256(abi.encode(REVOKE_TYPEHASH, subject, purpose, index, nonces[subject], auth.deadline)), auth);
        _revoke(purpose, p, index, count, subject, siblings);
    }

    /// @notice The EIP-712 domain separator (name "zkai ConsentRegistry", version "1", this chain, this contract).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals

    function _revoke(bytes32 purpose, Purpose storage p, uint256 index, uint256 count, address subject, uint256[] calldata siblings)
        private
    {
        uint256 leaf = leafOf[purpose][index];
        if (leaf == 0) revert AlreadyRevoked(purpose, index);
        if (siblings.length != p.depth) revert BadPathLength(siblings.length, p.depth);
        uint256 oldRoot = p.root;
        (uint256 checkedRoot, uint256 newRoot) = _updatePath(_frontier[purpose], index, count, leaf, siblings);
        if (checkedRoot != oldRoot) revert BadSiblings(purpose, index);
        leafOf[purpose][index] = 0;
        delete liveGrantOf[purpose][subject];
        _setRoot(purpose, p, oldRoot, newRoot);
        emit ConsentRevoked(purpose, index, subject, msg.sender);
    }

    /// @dev Jump the subject's nonce by 2^64, not by 1: a signature made in advance with a later nonce (n + 1, n + 2,
    /// ...) would otherwise become valid by this very cancellation.
    function _cancelSignatures(address subject) private {
        uint256 next = nonces[subject] + NONCE_JUMP;
        nonces[subject] = next;
        emit SignaturesCancelled(subject, next);
    }

    /// @dev Check `subject`'s EIP-712 signature of the struct hash and use up its nonce.
    function _useSignature(address subject, bytes32 structHash, Authorization calldata auth) private {
        if (subject == address(0)) revert ZeroSubject();
        if (block.timestamp > auth.deadline) revert SignatureExpired(auth.deadline);
        if (uint256(auth.s) > HALF_CURVE_ORDER || (auth.v != 27 && auth.v != 28)) revert BadSignature(subject);
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
        address signer = ecrecover(digest, auth.v, auth.r, auth.s);
        if (signer == address(0) || signer != subject) revert BadSignature(subject);
        unchecked {
            ++nonces[subject];
        }
    }

    function _known(bytes32 purpose) private view returns (Purpose storage p) {
        p = _purposes[purpose];
        if (p.depth == 0) revert PurposeUnknown(purpose);
    }

    function _grant(bytes32 purpose, address subject) private returns (uint256 index) {
        Purpose storage p = _known(purpose);
        uint256 live = liveGrantOf[purpose][subject];
        if (live != 0) revert AlreadyGranted(purpose, subject, live - 1);
        uint256 depth = p.depth;
        index = p.leafCount;
        if (index >> depth != 0) revert TreeFull(purpose, uint8(depth));
        uint256 leaf = accountLeaf(subject);
        uint256 node = _append(_frontier[purpose], index, depth, leaf);
        leafOf[purpose][index] = leaf;
        subjectOf[purpose][index] = subject;
        liveGrantOf[purpose][subject] = index + 1;
        p.leafCount = uint32(index + 1);
        _setRoot(purpose, p, p.root, node);
        emit ConsentGranted(purpose, index, leaf, subject, msg.sender);
    }

    /// @dev The root after appending `leaf` at `index`; writes the frontier slot of the left subtree it completes.
    function _append(mapping(uint256 => uint256) storage frontier, uint256 index, uint256 depth, uint256 leaf)
        private
        returns (uint256 node)
    {
        uint256[25] memory z = _zeros();
        address hasher = address(poseidon);
        node = leaf;
        bool completes = true; // all bits of `index` below level h are 1: the node of level h is complete
        for (uint256 h = 0; h < depth; ) {
            if ((index >> h) & 1 == 0) {
                if (completes) {
                    frontier[h] = node;
                    completes = false;
                }
                node = _hash(hasher, node, z[h]);
            } else {
                node = _hash(hasher, frontier[h], node);
            }
            unchecked {
                ++h;
            }
        }
    }

    /// @dev Walk leaf `index`'s path with the given siblings twice: from its current `leaf` (the root this gives must
    /// be the current root, which the caller checks) and from 0 (the new root). Keeps the frontier consistent.
    function _updatePath(
        mapping(uint256 => uint256) storage frontier,
        uint256 index,
        uint256 count,
        uint256 leaf,
        uint256[] calldata siblings
    ) private returns (uint256 oldNode, uint256 newNode) {
        uint256[25] memory z = _zeros();
        address hasher = address(poseidon);
        oldNode = leaf;
        // newNode starts as the new leaf, 0
        for (uint256 h = 0; h < siblings.length; ) {
            uint256 sibling = siblings[h];
            if (sibling >= SNARK_SCALAR_FIELD) return (0, 0); // never the current root: BadSiblings
            uint256 position = index >> h;
            // The frontier node the next appends read at this level is node (count >> h) - 1, when (count >> h) is
            // odd. If that is this path's node, it changes.
            if ((count >> h) & 1 == 1 && position + 1 == count >> h) frontier[h] = newNode;
            bool bothEmpty = newNode == z[h] && sibling == z[h];
            if (position & 1 == 0) {
                oldNode = _hash(hasher, oldNode, sibling);
                newNode = bothEmpty ? z[h + 1] : _hash(hasher, newNode, sibling);
            } else {
                oldNode = _hash(hasher, sibling, oldNode);
                newNode = bothEmpty ? z[h + 1] : _hash(hasher, sibling, newNode);
            }
            unchecked {
                ++h;
            }
        }
    }

    function _setRoot(bytes32 purpose, Purpose storage p, uint256 oldRoot, uint256 newRoot) private {
        supersededAt[purpose][oldRoot] = block.timestamp;
        p.root = newRoot;
        emit RootChanged(purpose, oldRoot, newRoot);
    }

    /// @dev Poseidon(a, b) through a STATICCALL to the hash contract, without Solidity's ABI encoding overhead.
    function _hash(address hasher, uint256 a, uint256 b) private view returns (uint256 result) {
        bool ok;
        assembly ("memory-safe") {
            // Scratch space above the free memory pointer (not allocated: nothing else runs in between).
            let m := mload(0x40)
            mstore(m, shl(224, POSEIDON_SELECTOR))
            mstore(add(m, 0x04), a)
            mstore(add(m, 0x24), b)
            ok := staticcall(gas(), hasher, m, 0x44, 0x00, 0x20)
            // Yul evaluates arguments right to left: read returndatasize only after the call.
            ok := and(ok, eq(returndatasize(), 0x20))
            result := mload(0x00)
        }
        if (!ok) revert PoseidonFailed();
    }

    /// @dev zeros[0..24], from the immutables (no storage reads).
    function _zeros() private view returns (uint256[25] memory z) {
        z[1] = Z1;
        z[2] = Z2;
        z[3] = Z3;
        z[4] = Z4;
        z[5] = Z5;
        z[6] = Z6;
        z[7] = Z7;
        z[8] = Z8;
        z[9] = Z9;
        z[10] = Z10;
        z[11] = Z11;
        z[12] = Z12;
        z[13] = Z13;
        z[14] = Z14;
        z[15] = Z15;
        z[16] = Z16;
        z[17] = Z17;
        z[18] = Z18;
        z[19] = Z19;
        z[20] = Z20;
        z[21] = Z21;
        z[22] = Z22;
        z[23] = Z23;
        z[24] = Z24;
    }
}
