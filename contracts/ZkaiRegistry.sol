// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice zkai's generated Groth16 verifiers (src/chain/groth16-template.ts): revert unless the proof verifies.
interface IZkaiVerifier {
    function verifyProof(uint256[8] calldata proof, uint256[] calldata publicSignals) external view;
    /// @notice k proofs of the key at once (k + 3 pairings), signals flat: proof i's at i * PUBLIC_INPUTS.
    function verifyProofs(uint256[8][] calldata proofs, uint256[] calldata publicSignals) external view;
    function PUBLIC_INPUTS() external view returns (uint256);
    function VERIFICATION_KEY_ID() external view returns (bytes32);
}

/// @notice circomlibjs's Poseidon(2) contract.
interface IPoseidon2 {
    function poseidon(uint256[2] calldata inputs) external pure returns (uint256);
}

/// @notice The consent registry's root history (contracts/ConsentRegistry.sol).
interface IConsentRoots {
    function isKnownRoot(bytes32 purpose, uint256 root) external view returns (bool);
}

/// @notice Curated lists' root histories (contracts/ListRegistry.sol).
interface IListRoots {
    function isKnownRoot(bytes32 list, uint256 root) external view returns (bool);
    function curatorOf(bytes32 list) external view returns (address);
}

/// @title zkai registry: circuits, datasets and models, and attestations made with zero-knowledge proofs.
/// @notice One deployment holds the audit trail: which circuits (verification keys) mean what, which dataset and
/// model commitments exist (versioned by their owners), and attestations shaped like the Ethereum Attestation
/// Service's (uid, circuit as schema, subject, attester, time, expiry, refUID, revocable), each made by verifying a
/// proof whose public signals equal the subject's registered fields. A proof is bound to its context
/// (chain id, this registry, the sender, a nonce) and each statement is accepted once, so a proof can neither be
/// replayed nor submitted by anyone but the attester it was made for.
contract ZkaiRegistry {
    // ------------------------------------------------------------------------------------------------ types

    /// @notice What a circuit proves. DatasetChunk circuits (of policies with no aggregate over records: they publish
    /// their subtree roots and record count only) are attested chunk by chunk (attestChunk); Accuracy circuits chunk
    /// by chunk too (attestAccuracyChunk): each chunk proof publishes the leaves of the test-set records it ran the
    /// model on and a salted commitment to the running total of correct predictions, opening the previous chunk's
    /// (no chunk's count is public; the last commitment is Poseidon(total, 0)). DatasetAggregation
    /// circuits (a node or the root of a private chunked proof) and DatasetPrivateChunk circuits (its chunks, which
    /// publish a salted commitment to their partials) are only ever checked inside ZkaiPrivateChunks.
    enum Kind {
        None,
        DatasetPolicy,
        DatasetChunk,
        Inference,
        Accuracy,
        Inclusion,
        DatasetAggregation,
        DatasetPrivateChunk
    }

    /// @notice Where each meaning sits among a circuit's public signals: index + 1, or 0 when the circuit has none.
    struct Layout {
        uint16 root; // dataset root (DatasetChunk: the first subtree root; Accuracy: the first leaf; the others follow)
        uint16 count; // record count (Accuracy: the commitment to the running total of correct predictions, right after the last leaf)
        uint16 policyHash; // the policy hash (Accuracy: the task hash)
        uint16 schemaHash;
        uint16 modelHash; // model hash (fixed weights) or model commitment (private weights)
        uint16 consentRoot; // a consent registry root the proof checked membership against
        uint16 chunkDepth; // (Accuracy: the previous chunk's commitment, which the chunk opens)
        uint16 chunkSubtrees;
        uint16 context;
    }

    /// @notice A public signal that is a root of a curated list (an opt-out list, an allow list): each proof's value
    /// must be a current or recent root of that list (createList, publishListRoot).
    struct ListBinding {
        uint16 signal; // index + 1
        bytes32 list; // the curated list's id
        bytes32 name; // the circuit's name for that registry (the policy's), as a short string
    }

    /// @notice How the registrant trusted the circuit's proving key.
    enum KeyTrust {
        None,
        Development, // the registrant's own single-party setup: it alone could forge proofs (DEVELOPMENT-ONLY)
        OwnContribution, // a multi-party chain ending with a beacon, holding a contribution of the registrant's own
        VerifiedTranscript // a multi-party chain ending with a beacon, whose ceremony transcript the registrant verified
    }

    /// @notice What a circuit was made from, so that anyone can regenerate it and re-check the registration.
    struct Provenance {
        bytes32 source; // keccak256 of the source descriptor (generator, parameters, hashes), emitted in CircuitSource
        uint256 schemaHash; // the schema it was generated from (0: none)
        uint256 modelHash; // the model (fixed weights) it was generated from (0: none)
        bytes32 transcript; // sha256 of the ceremony transcript the registrant verified (0: none)
        KeyTrust keyTrust;
    }

    /// @notice Everything a circuit is registered with (registerCircuit).
    struct Registration {
        bytes32 id; // the verification key id (the verifier's VERIFICATION_KEY_ID)
        address verifier;
        Kind kind;
        Layout layout;
        uint256 policyHash; // the policy (Accuracy: the task) the circuit pins; 0: none
        bytes32 consentPurpose;
        ListBinding[] lists;
        uint16[] claims; // signals that are the attested claim (a class, an input commitment): recorded, not compared
        Provenance provenance;
        string sourceDescriptor; // the source descriptor itself (JSON), whose keccak256 is provenance.source
        string uri;
    }

    struct Circuit {
        address verifier;
        Kind kind;
        uint16 publicInputs;
        uint256 policyHash; // the policy the circuit pins (0: none); checked against the signal
        bytes32 consentPurpose;
        Layout layout;
        string uri;
    }

    enum SubjectKind {
        None,
        Dataset,
        Model
    }

    /// @notice One version of a dataset or model commitment. Its id is what attestations name as their subject.
    struct Version {
        bytes32 subjectId; // the dataset or model this is a version of
        SubjectKind kind;
        uint32 number; // 1, 2, ...
        uint8 depth; // dataset tree depth
        uint64 time;
        bytes32 previous; // id of the version before, or 0
        uint256 root; // dataset commitment root
        uint256 count; // dataset record count
        uint256 schemaHash;
        uint256 modelHash; // model hash or commitment
        string uri;
    }

    struct Subject {
        address owner;
        SubjectKind kind;
        uint32 versions;
        bytes32 latest;
    }

    /// @notice An attestation, shaped like EAS's.
    struct Attestation {
        bytes32 uid;
        bytes32 circuit; // the "schema": a circuit id
        bytes32 subject; // a version id
        address attester;
        uint64 time;
        uint64 expirationTime; // 0: never
        uint64 revocationTime; // 0: not revoked
        bytes32 refUID;
        bool revocable;
        uint256 policyHash;
        bytes32 statement; // keccak256 of the public signals (all chunks' for a chunked attestation)
    }

    struct AttestRequest {
        bytes32 circuit;
        bytes32 subject;
        uint64 expirationTime;
        bytes32 refUID;
        bool revocable;
        bytes32 nonce;
        uint256[8] proof;
        uint256[] publicSignals;
    }

    /// @notice Progress of a chunked dataset attestation, per (subject, circuit, attester), or of an accuracy
    /// attestation, per (model version, circuit, attester, test set).
    struct ChunkSession {
        uint32 chunks;
        uint64 records;
        uint64 appended; // subtree roots (accuracy: leaves) folded into the frontier
        bytes32 statement; // running hash of the chunks' public signals
        bytes32 roots; // hash of the first chunk's registry roots (consent, lists): every chunk must carry the same
        uint256 link; // accuracy: the last chunk's commitment to the running total of correct predictions
        mapping(uint256 => uint256) frontier;
    }

    /// @notice What an accuracy attestation says: the model version (its subject) predicted `correct` of the
    /// `total` records of the test set (a dataset version) right.
    struct AccuracyResult {
        bytes32 testSet;
        uint64 correct;
        uint64 total;
    }

    // ------------------------------------------------------------------------------------------------ errors

    error NotOwner(address caller, address owner);
    error CircuitExists(bytes32 circuit);
    error CircuitUnknown(bytes32 circuit);
    error VerifierKeyMismatch(bytes32 circuit, bytes32 verifierKeyId);
    error BadLayout(string reason);
    error WrongKind(bytes32 circuit, Kind kind);
    error SubjectExists(bytes32 subjectId);
    error SubjectUnknown(bytes32 id);
    error NotSubjectOwner(bytes32 subjectId, address caller, address owner);
    error SubjectKindMismatch(bytes32 subject, SubjectKind expected, SubjectKind actual);
    error BadSubject(string reason);
    error PublicInputCount(uint256 expected, uint256 got);
    error ContextMismatch(uint256 expected, uint256 got);
    error FieldMismatch(string field, uint256 expected, uint256 got);
    error StaleConsentRoot(bytes32 purpose, uint256 root);
    error RegistryRootsChanged(uint32 chunk);
    error ProofAlreadyUsed(bytes32 nullifier);
    error BadExpiration(uint64 expirationTime);
    error RefUnknown(bytes32 refUID);
    error AttestationUnknown(bytes32 uid);
    error NotAttester(bytes32 uid, address caller, address attester);
    error NotRevocable(bytes32 uid);
    error AlreadyRevoked(bytes32 uid);
    error ChunkShape(string reason);
    error RootMismatch(uint256 combined, uint256 registered);
    error UnboundSignal(uint256 index);
    error ListUnknown(bytes32 list);
    error StaleListRoot(bytes32 list, uint256 root);
    error BadProvenance(string reason);
    error NoAggregation(bytes32 circuit);

    // ------------------------------------------------------------------------------------------------ events

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event CircuitRegistered(bytes32 indexed circuit, address verifier, Kind kind, string uri);
    event SubjectRegistered(bytes32 indexed subjectId, address indexed owner, SubjectKind kind, bytes32 label);
    event VersionPublished(bytes32 indexed subjectId, bytes32 indexed version, uint32 number, bytes32 previous);
    event Attested(
        bytes32 indexed subject,
        address indexed attester,
        bytes32 indexed circuit,
        bytes32 uid,
        uint256[] publicSignals
    );
    event Revoked(bytes32 indexed subject, address indexed attester, bytes32 indexed uid);
    event ChunkAccepted(bytes32 indexed subject, address indexed attester, bytes32 indexed circuit, uint32 chunk, uint64 records);
    event ChunkSessionReset(bytes32 indexed subject, address indexed attester, bytes32 indexed circuit);
    event AccuracyAttested(bytes32 indexed model, bytes32 indexed testSet, bytes32 indexed uid, uint64 correct, uint64 total);
    event CircuitSource(bytes32 indexed circuit, bytes32 source, bytes32 transcript, KeyTrust keyTrust, string descriptor);

    // ------------------------------------------------------------------------------------------------ state

    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant MAX_DEPTH = 32;

    address public owner;
    IPoseidon2 public immutable poseidon;
    IConsentRoots public immutable consent;
    IListRoots public immutable lists;
    /// @notice The registration rules (layout and binding checks), a contract of their own for the code size limit.
    ZkaiCircuitRules public immutable rules;
    /// @notice Attests private chunked dataset proofs (a contract of its own, for the code size limit): it checks them
    /// and records their attestations here (recordPrivateChunks).
    ZkaiPrivateChunks public immutable privateChunks;

    mapping(bytes32 => Circuit) internal circuits;
    /// @notice Each circuit's signals bound to curated lists, and its claim signals.
    mapping(bytes32 => ListBinding[]) internal circuitLists;
    mapping(bytes32 => uint16[]) internal circuitClaims;
    /// @notice What each circuit was made from and how its key was trusted.
    mapping(bytes32 => Provenance) public provenanceOf;
    mapping(bytes32 => Subject) public subjects;
    mapping(bytes32 => Version) internal versions;
    mapping(bytes32 => Attestation) internal attestations;
    mapping(bytes32 => bool) public usedStatements;
    mapping(bytes32 => ChunkSession) internal sessions;
    /// @notice The result of each accuracy attestation, by uid.
    mapping(bytes32 => AccuracyResult) public accuracyOf;
    /// @notice zeroRoots[h]: the root of 2^h zero leaves (Poseidon(2) tree), as src/data computes it.
    uint256[MAX_DEPTH + 1] public zeroRoots;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        _;
    }

    /// @param poseidon_ circomlibjs's Poseidon(2) contract
    /// @param consent_ the consent registry (may be the zero address when no circuit checks consent)
    /// @param lists_ the curated lists (may be the zero address when no circuit checks a list)
    constructor(IPoseidon2 poseidon_, IConsentRoots consent_, IListRoots lists_) {
        owner = msg.sender;
        poseidon = poseidon_;
        consent = consent_;
        lists = lists_;
        rules = new ZkaiCircuitRules();
        privateChunks = new ZkaiPrivateChunks(this, poseidon_, consent_, lists_);
        uint256 node = 0;
        for (uint256 h = 1; h <= MAX_DEPTH; h++) {
            node = poseidon_.poseidon([node, node]);
            zeroRoots[h] = node;
        }
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Hand the registry (circuit curation) to another owner.
    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ------------------------------------------------------------------------------------------------ circuits

    /// @notice Register a circuit by its verification key id. Only the owner curates circuits: a layout says what
    /// a circuit's signals mean, and a wrong one would let proofs claim what they do not prove. Every public signal
    /// must be bound: compared with registered state (a layout field, a consent or curated-list root, a chunk's
    /// roots (a private chunk's commitment), an accuracy chunk's leaves) or declared the attested claim; otherwise UnboundSignal.
    function registerCircuit(Registration calldata r) external onlyOwner {
        if (circuits[r.id].verifier != address(0)) revert CircuitExists(r.id);
        bytes32 keyId = IZkaiVerifier(r.verifier).VERIFICATION_KEY_ID();
        if (keyId != r.id) revert VerifierKeyMismatch(r.id, keyId);
        uint256 n = IZkaiVerifier(r.verifier).PUBLIC_INPUTS();
        if (r.consentPurpose != bytes32(0) && address(consent) == address(0)) revert BadLayout("no consent registry");
        if (r.kind == Kind.Accuracy && r.policyHash == 0) revert BadLayout("accuracy circuits are registered with the task hash they pin");
        uint16[] memory listSignals = new uint16[](r.lists.length);
        for (uint256 i = 0; i < r.lists.length; i++) {
            if (address(lists) == address(0) || lists.curatorOf(r.lists[i].list) == address(0)) revert ListUnknown(r.lists[i].list);
            listSignals[i] = r.lists[i].signal;
        }
        rules.check(r.kind, r.layout, n, r.consentPurpose != bytes32(0), listSignals, r.claims);
        if (r.provenance.keyTrust == KeyTrust.None) revert BadProvenance("say how the proving key was trusted");
        if (keccak256(bytes(r.sourceDescriptor)) != r.provenance.source) revert BadProvenance("the source hash is not keccak256(sourceDescriptor)");
        if ((r.provenance.keyTrust == KeyTrust.VerifiedTranscript) != (r.provenance.transcript != bytes32(0))) revert BadProvenance("a transcript hash goes with a verified transcript only");
        Circuit storage c = circuits[r.id];
        c.verifier = r.verifier;
        c.kind = r.kind;
        c.publicInputs = uint16(n);
        c.policyHash = r.policyHash;
        c.consentPurpose = r.consentPurpose;
        c.layout = r.layout;
        for (uint256 i = 0; i < r.lists.length; i++) circuitLists[r.id].push(r.lists[i]);
        circuitClaims[r.id] = r.claims;
        provenanceOf[r.id] = r.provenance;
        c.uri = r.uri;
        emit CircuitRegistered(r.id, r.verifier, r.kind, r.uri);
        emit CircuitSource(r.id, r.provenance.source, r.provenance.transcript, r.provenance.keyTrust, r.sourceDescriptor);
    }

    /// @notice A registered circuit.
    function getCircuit(bytes32 id) external view returns (Circuit memory) {
        return circuits[id];
    }

    /// @notice A circuit's signals bound to curated lists, and its claim signals.
    function getCircuitBindings(bytes32 id) external view returns (ListBinding[] memory lists_, uint16[] memory claims) {
        return (circuitLists[id], circuitClaims[id]);
    }

    // ------------------------------------------------------------------------------------------------ subjects

    /// @notice Register a dataset commitment; the caller owns it. Its id is keccak256(owner, label).
    function registerDataset(bytes32 label, uint256 root, uint256 count, uint8 depth, uint256 schemaHash, string calldata uri)
        external
        returns (bytes32 subjectId, bytes32 version)
    {
        subjectId = _newSubject(label, SubjectKind.Dataset);
        version = _publish(subjectId, root, count, depth, schemaHash, 0, uri);
    }

    /// @notice Register a model commitment (its hash, or its commitment for private weights); the caller owns it.
    function registerModel(bytes32 label, uint256 modelHash, string calldata uri) external returns (bytes32 subjectId, bytes32 version) {
        subjectId = _newSubject(label, SubjectKind.Model);
        version = _publish(subjectId, 0, 0, 0, 0, modelHash, uri);
    }

    /// @notice Publish a new version of a dataset (only its owner); it links to the previous one.
    function publishDatasetVersion(bytes32 subjectId, uint256 root, uint256 count, uint8 depth, uint256 schemaHash, string calldata uri)
        external
        returns (bytes32)
    {
        _onlySubjectOwner(subjectId, SubjectKind.Dataset);
        return _publish(subjectId, root, count, depth, schemaHash, 0, uri);
    }

    /// @notice Publish a new version of a model (only its owner); it links to the previous one.
    function publishModelVersion(bytes32 subjectId, uint256 modelHash, string calldata uri) external returns (bytes32) {
        _onlySubjectOwner(subjectId, SubjectKind.Model);
        return _publish(subjectId, 0, 0, 0, 0, modelHash, uri);
    }

    /// @notice Hand a dataset or model to another owner.
    function transferSubject(bytes32 subjectId, address newOwner) external {
        _onlySubjectOwner(subjectId, subjects[subjectId].kind);
        subjects[subjectId].owner = newOwner;
        emit SubjectRegistered(subjectId, newOwner, subjects[subjectId].kind, bytes32(0));
    }

    function _newSubject(bytes32 label, SubjectKind kind) internal returns (bytes32 subjectId) {
        subjectId = keccak256(abi.encode(msg.sender, label));
        if (subjects[subjectId].owner != address(0)) revert SubjectExists(subjectId);
        subjects[subjectId] = Subject({owner: msg.sender, kind: kind, versions: 0, latest: bytes32(0)});
        emit SubjectRegistered(subjectId, msg.sender, kind, label);
    }

    function _onlySubjectOwner(bytes32 subjectId, SubjectKind kind) internal view {
        Subject storage s = subjects[subjectId];
        if (s.owner == address(0)) revert SubjectUnknown(subjectId);
        if (s.owner != msg.sender) revert NotSubjectOwner(subjectId, msg.sender, s.owner);
        if (s.kind != kind) revert SubjectKindMismatch(subjectId, kind, s.kind);
    }

    function _publish(bytes32 subjectId, uint256 root, uint256 count, uint8 depth, uint256 schemaHash, uint256 modelHash, string calldata uri)
        internal
        returns (bytes32 id)
    {
        Subject storage s = subjects[subjectId];
        if (s.kind == SubjectKind.Dataset) {
            if (root == 0 || root >= R || schemaHash >= R) revert BadSubject("root and schema hash must be field elements, root non-zero");
            if (count == 0 || depth == 0 || depth > MAX_DEPTH || count > (uint256(1) << depth)) revert BadSubject("count must be from 1 to 2^depth, depth from 1 to 32");
        } else if (modelHash == 0 || modelHash >= R) {
            revert BadSubject("model hash must be a non-zero field element");
        }
        uint32 number = s.versions + 1;
        id = keccak256(abi.encode(subjectId, number));
        versions[id] = Version({
            subjectId: subjectId,
            kind: s.kind,
            number: number,
            depth: depth,
            time: uint64(block.timestamp),
            previous: s.latest,
            root: root,
            count: count,
            schemaHash: schemaHash,
            modelHash: modelHash,
            uri: uri
        });
        emit VersionPublished(subjectId, id, number, s.latest);
        s.versions = number;
        s.latest = id;
    }

    /// @notice A version of a dataset or model.
    function getVersion(bytes32 id) external view returns (Version memory) {
        return versions[id];
    }

    // ------------------------------------------------------------------------------------------------ attestations

    /// @notice The context a proof must carry to be attested by `attester` with `nonce` here: keccak256 of
    /// (chain id, this registry, attester, nonce), reduced modulo the BN254 scalar field.
    function contextOf(address attester, bytes32 nonce) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), attester, nonce))) % R;
    }

    /// @notice Attest with a proof: a dataset policy proof, an inference proof or an inclusion proof. Checks, before
    /// storing anything: the circuit and subject, the proof's context, the subject's registered fields, the consent
    /// root, that the statement is new, and the proof itself (the verifier reverts with ProofInvalid).
    function attest(AttestRequest calldata request) external returns (bytes32 uid) {
        Circuit storage c = circuits[request.circuit];
        if (c.verifier == address(0)) revert CircuitUnknown(request.circuit);
        if (c.kind != Kind.DatasetPolicy && c.kind != Kind.Inference && c.kind != Kind.Inclusion) revert WrongKind(request.circuit, c.kind);
        Version storage v = _subjectFor(c, request.subject);
        _checkClaims(c, v, request.publicSignals, request.nonce);
        _checkLists(request.circuit, request.publicSignals);
        bytes32 statement = keccak256(abi.encode(request.circuit, request.publicSignals));
        if (usedStatements[statement]) revert ProofAlreadyUsed(statement);
        usedStatements[statement] = true;
        IZkaiVerifier(c.verifier).verifyProof(request.proof, request.publicSignals);
        uid = _store(request, _signal(c.layout.policyHash, request.publicSignals), statement);
        emit Attested(request.subject, msg.sender, request.circuit, uid, request.publicSignals);
    }

    /// @notice Attest a dataset proven in chunks: send the chunk proofs in order, one call each. Each chunk is checked
    /// like a single proof (context, schema, policy, consent, record count) and its subtree roots are folded into a
    /// Merkle frontier; the call that brings the last chunk combines them and stores the attestation only if they
    /// give the registered root (else it reverts with RootMismatch). Returns the uid then, 0 before.
    function attestChunk(AttestRequest calldata request) external returns (bytes32 uid) {
        Circuit storage c = circuits[request.circuit];
        if (c.verifier == address(0)) revert CircuitUnknown(request.circuit);
        if (c.kind != Kind.DatasetChunk) revert WrongKind(request.circuit, c.kind);
        Version storage v = _subjectFor(c, request.subject);
        ChunkSession storage s = sessions[keccak256(abi.encode(request.subject, request.circuit, msg.sender))];
        uint256 depth = _acceptChunk(request, c, v, s);
        if (s.records < v.count) return bytes32(0);

        uint256 combined = _frontierRoot(s, v.depth - depth, depth);
        if (combined != v.root) revert RootMismatch(combined, v.root);
        bytes32 all = s.statement;
        _clear(s);
        uid = _store(request, _signal(c.layout.policyHash, request.publicSignals), all);
        emit Attested(request.subject, msg.sender, request.circuit, uid, request.publicSignals);
    }

    /// @dev Check, verify and fold one dataset chunk into its session; returns the chunk depth.
    function _acceptChunk(AttestRequest calldata request, Circuit storage c, Version storage v, ChunkSession storage s) internal returns (uint256 depth) {
        uint256 subtrees;
        uint256 records;
        (depth, subtrees, records) = _checkChunk(c, v, s, request.publicSignals, request.nonce);
        _checkLists(request.circuit, request.publicSignals);
        _sameRoots(s, c, request.circuit, request.publicSignals);
        bytes32 statement = keccak256(abi.encode(request.circuit, request.publicSignals));
        if (usedStatements[statement]) revert ProofAlreadyUsed(statement);
        usedStatements[statement] = true;
        IZkaiVerifier(c.verifier).verifyProof(request.proof, request.publicSignals);
        _foldChunk(s, request.publicSignals, depth, subtrees, v.count);
        s.chunks += 1;
        s.records += uint64(records);
        s.statement = keccak256(abi.encode(s.statement, statement));
        emit ChunkAccepted(request.subject, msg.sender, request.circuit, s.chunks - 1, s.records);
    }

    /// @notice Record the attestation of a private chunked dataset proof that ZkaiPrivateChunks checked (only it
    /// calls this, with the attestation's attester, circuit, subject, expiry, reference, revocability and statement,
    /// the hash of every signal): the statement is accepted once.
    function recordPrivateChunks(address attester, bytes32 circuit, bytes32 subject, uint64 expirationTime, bytes32 refUID, bool revocable, bytes32 statement, uint256[] calldata signals)
        external
        returns (bytes32 uid)
    {
        if (msg.sender != address(privateChunks)) revert NotOwner(msg.sender, address(privateChunks));
        usedStatements[statement] = true; // ZkaiPrivateChunks checked it was not used
        Attestation memory a;
        a.circuit = circuit;
        a.subject = subject;
        a.attester = attester;
        a.expirationTime = expirationTime;
        a.refUID = refUID;
        a.revocable = revocable;
        a.policyHash = circuits[circuit].policyHash;
        a.statement = statement;
        uid = _storeAttestation(a);
        emit Attested(subject, attester, circuit, uid, signals);
    }

    /// @notice Attest a model's accuracy on a registered test set (a dataset version), proven in chunks: send the
    /// chunk proofs in order, one call each, with the total of correct predictions the proof states. Each chunk is
    /// checked (context, model hash, task hash, and that it opens the previous chunk's commitment: Poseidon(0, 0) for
    /// the first) and its leaves are folded into a Merkle frontier (slots past the last record must be empty); the call
    /// that brings the last chunk stores the attestation, with its subject the model version, only if the leaves give
    /// the test set's registered root (else RootMismatch) and its commitment is Poseidon(correct, 0) (else
    /// FieldMismatch). Returns the uid then, 0 before.
    function attestAccuracyChunk(AttestRequest calldata request, bytes32 testSet, uint64 correct) external returns (bytes32 uid) {
        Circuit storage c = circuits[request.circuit];
        if (c.verifier == address(0)) revert CircuitUnknown(request.circuit);
        if (c.kind != Kind.Accuracy) revert WrongKind(request.circuit, c.kind);
        Version storage m = _subjectFor(c, request.subject);
        Version storage t = versions[testSet];
        if (t.kind != SubjectKind.Dataset) revert SubjectKindMismatch(testSet, SubjectKind.Dataset, t.kind);
        ChunkSession storage s = sessions[keccak256(abi.encode(request.subject, request.circuit, msg.sender, testSet))];
        uint256[] calldata signals = request.publicSignals;
        if (signals.length != c.publicInputs) revert PublicInputCount(c.publicInputs, signals.length);
        _checkContextAndConsent(c, signals, request.nonce);
        _checkLists(request.circuit, signals);
        _sameRoots(s, c, request.circuit, signals);
        _checkField("modelHash", c.layout.modelHash, signals, m.modelHash);
        _checkField("taskHash", c.layout.policyHash, signals, c.policyHash);
        _checkField("previous", c.layout.chunkDepth, signals, s.chunks == 0 ? zeroRoots[1] : s.link);
        bytes32 statement = keccak256(abi.encode(request.circuit, signals));
        if (usedStatements[statement]) revert ProofAlreadyUsed(statement);
        usedStatements[statement] = true;
        IZkaiVerifier(c.verifier).verifyProof(request.proof, signals);
        _foldLeaves(s, signals, c.layout.root - 1, c.layout.count - c.layout.root, t.count);
        s.link = signals[c.layout.count - 1];
        s.chunks += 1;
        s.statement = keccak256(abi.encode(s.statement, statement));
        emit ChunkAccepted(request.subject, msg.sender, request.circuit, s.chunks - 1, s.records);
        if (s.records < t.count) return bytes32(0);
        uid = _finishAccuracy(request, testSet, correct, s, t, c.policyHash);
    }

    /// @dev The last accuracy chunk: the leaves rebuild the test set's root, the last commitment opens to the stated
    /// total with salt 0; then the attestation and its result are stored.
    function _finishAccuracy(AttestRequest calldata request, bytes32 testSet, uint64 correct, ChunkSession storage s, Version storage t, uint256 taskHash)
        internal
        returns (bytes32 uid)
    {
        uint256 combined = _frontierRoot(s, t.depth, 0);
        if (combined != t.root) revert RootMismatch(combined, t.root);
        uint256 claimed = poseidon.poseidon([uint256(correct), 0]);
        if (claimed != s.link) revert FieldMismatch("correct", s.link, claimed);
        uint64 total = s.records;
        bytes32 all = s.statement;
        _clear(s);
        uid = _store(request, taskHash, all);
        accuracyOf[uid] = AccuracyResult({testSet: testSet, correct: correct, total: total});
        emit Attested(request.subject, msg.sender, request.circuit, uid, request.publicSignals);
        emit AccuracyAttested(request.subject, testSet, uid, correct, total);
    }

    /// @dev Fold an accuracy chunk's leaves: the slots holding test-set records are appended, the ones past the last
    /// record must be empty (0).
    function _foldLeaves(ChunkSession storage s, uint256[] calldata signals, uint256 first, uint256 slots, uint256 count) internal {
        uint256 records = s.records;
        for (uint256 i = 0; i < slots; i++) {
            if (records < count) {
                _append(s, signals[first + i]);
                records++;
            } else if (signals[first + i] != 0) {
                revert ChunkShape("a slot past the last record of the test set is not empty");
            }
        }
        s.records = uint64(records);
    }

    /// @notice Drop the caller's accuracy chunks accepted so far for (model version, circuit, test set).
    function resetAccuracyChunks(bytes32 subject, bytes32 circuit, bytes32 testSet) external {
        _clear(sessions[keccak256(abi.encode(subject, circuit, msg.sender, testSet))]);
        emit ChunkSessionReset(subject, msg.sender, circuit);
    }

    /// @notice Chunks and records of the attester's accuracy attestation in progress.
    function accuracyProgress(bytes32 subject, bytes32 circuit, address attester, bytes32 testSet) external view returns (uint32 chunks, uint64 records) {
        ChunkSession storage s = sessions[keccak256(abi.encode(subject, circuit, attester, testSet))];
        return (s.chunks, s.records);
    }

    /// @dev The checks of one chunk before its proof: returns its chunk depth, subtrees and record count.
    function _checkChunk(Circuit storage c, Version storage v, ChunkSession storage s, uint256[] calldata signals, bytes32 nonce)
        internal
        view
        returns (uint256 depth, uint256 subtrees, uint256 records)
    {
        if (signals.length != c.publicInputs) revert PublicInputCount(c.publicInputs, signals.length);
        _checkContextAndConsent(c, signals, nonce);
        _checkField("schemaHash", c.layout.schemaHash, signals, v.schemaHash);
        if (c.policyHash != 0) _checkField("policyHash", c.layout.policyHash, signals, c.policyHash);
        depth = signals[c.layout.chunkDepth - 1];
        subtrees = signals[c.layout.chunkSubtrees - 1];
        if (depth > v.depth) revert ChunkShape("chunk depth above the dataset's tree depth");
        // A chunk publishes its subtree roots, then its count: chunks that published aggregate partials between them
        // (the format before private chunks) are refused, as they disclose per-chunk statistics.
        if (c.layout.count != subtrees + 1) revert ChunkShape("the chunks publish aggregate partials: prove again as private chunks");
        uint256 size = subtrees << depth;
        uint256 left = v.count - s.records;
        records = left < size ? left : size;
        _checkField("count", c.layout.count, signals, records);
    }

    /// @dev Fold a chunk's subtree roots that lie inside the tree; the ones past the last record must be empty.
    function _foldChunk(ChunkSession storage s, uint256[] calldata signals, uint256 depth, uint256 subtrees, uint256 count) internal {
        uint256 used = (count + (uint256(1) << depth) - 1) >> depth; // subtrees holding records
        uint256 first = uint256(s.chunks) * subtrees;
        uint256 zero = zeroRoots[depth];
        for (uint256 t = 0; t < subtrees; t++) {
            if (first + t < used) _append(s, signals[t]);
            else if (signals[t] != zero) revert ChunkShape("a subtree past the last record is not empty");
        }
    }

    /// @dev Every chunk of a session carries the first chunk's registry roots, so the last chunk's check that they are
    /// current or recent covers the whole session (a session left open past a revocation cannot finish on old roots).
    function _sameRoots(ChunkSession storage s, Circuit storage c, bytes32 id, uint256[] calldata signals) internal {
        ListBinding[] storage bindings = circuitLists[id];
        bytes32 h = keccak256(abi.encode(c.layout.consentRoot == 0 ? 0 : signals[c.layout.consentRoot - 1]));
        for (uint256 i = 0; i < bindings.length; i++) h = keccak256(abi.encode(h, signals[bindings[i].signal - 1]));
        if (s.chunks == 0) s.roots = h;
        else if (s.roots != h) revert RegistryRootsChanged(s.chunks);
    }

    function _clear(ChunkSession storage s) internal {
        s.chunks = 0;
        s.records = 0;
        s.appended = 0;
        s.link = 0;
        s.statement = bytes32(0);
        s.roots = bytes32(0);
    }

    /// @notice Drop the caller's chunks accepted so far for (subject, circuit), to start again.
    function resetChunks(bytes32 subject, bytes32 circuit) external {
        _clear(sessions[keccak256(abi.encode(subject, circuit, msg.sender))]);
        emit ChunkSessionReset(subject, msg.sender, circuit);
    }

    /// @notice Chunks and records of the attester's chunked attestation in progress for (subject, circuit).
    function chunkProgress(bytes32 subject, bytes32 circuit, address attester) external view returns (uint32 chunks, uint64 records) {
        ChunkSession storage s = sessions[keccak256(abi.encode(subject, circuit, attester))];
        return (s.chunks, s.records);
    }

    /// @notice Revoke an attestation (only its attester, only when revocable).
    function revoke(bytes32 uid) external {
        Attestation storage a = attestations[uid];
        if (a.uid == bytes32(0)) revert AttestationUnknown(uid);
        if (a.attester != msg.sender) revert NotAttester(uid, msg.sender, a.attester);
        if (!a.revocable) revert NotRevocable(uid);
        if (a.revocationTime != 0) revert AlreadyRevoked(uid);
        a.revocationTime = uint64(block.timestamp);
        emit Revoked(a.subject, a.attester, uid);
    }

    /// @notice An attestation (all zero when unknown).
    function getAttestation(bytes32 uid) external view returns (Attestation memory) {
        return attestations[uid];
    }

    /// @notice Does the attestation exist, unrevoked and unexpired?
    function isAttestationValid(bytes32 uid) external view returns (bool) {
        Attestation storage a = attestations[uid];
        return a.uid != bytes32(0) && a.revocationTime == 0 && (a.expirationTime == 0 || a.expirationTime > block.timestamp);
    }

    // ------------------------------------------------------------------------------------------------ internals

    function _subjectFor(Circuit storage c, bytes32 id) internal view returns (Version storage v) {
        v = versions[id];
        if (v.kind == SubjectKind.None) revert SubjectUnknown(id);
        SubjectKind want = c.kind == Kind.Inference || c.kind == Kind.Accuracy ? SubjectKind.Model : SubjectKind.Dataset;
        if (v.kind != want) revert SubjectKindMismatch(id, want, v.kind);
    }

    function _checkClaims(Circuit storage c, Version storage v, uint256[] calldata signals, bytes32 nonce) internal view {
        if (signals.length != c.publicInputs) revert PublicInputCount(c.publicInputs, signals.length);
        _checkContextAndConsent(c, signals, nonce);
        Layout storage l = c.layout;
        if (v.kind == SubjectKind.Dataset) {
            _checkField("root", l.root, signals, v.root);
            if (l.count != 0) _checkField("count", l.count, signals, v.count);
            _checkField("schemaHash", l.schemaHash, signals, v.schemaHash);
        } else {
            _checkField("modelHash", l.modelHash, signals, v.modelHash);
        }
        if (c.policyHash != 0) _checkField("policyHash", l.policyHash, signals, c.policyHash);
    }

    function _checkContextAndConsent(Circuit storage c, uint256[] calldata signals, bytes32 nonce) internal view {
        uint256 context = contextOf(msg.sender, nonce);
        uint256 got = signals[c.layout.context - 1];
        if (got != context) revert ContextMismatch(context, got);
        if (c.layout.consentRoot != 0) {
            uint256 root = signals[c.layout.consentRoot - 1];
            if (!consent.isKnownRoot(c.consentPurpose, root)) revert StaleConsentRoot(c.consentPurpose, root);
        }
    }

    /// @dev Each signal bound to a curated list must be a current or recent root of it.
    function _checkLists(bytes32 id, uint256[] calldata signals) internal view {
        ListBinding[] storage bindings = circuitLists[id];
        for (uint256 i = 0; i < bindings.length; i++) {
            uint256 root = signals[bindings[i].signal - 1];
            if (!lists.isKnownRoot(bindings[i].list, root)) revert StaleListRoot(bindings[i].list, root);
        }
    }

    function _checkField(string memory name, uint16 index, uint256[] calldata signals, uint256 expected) internal pure {
        uint256 got = signals[index - 1];
        if (got != expected) revert FieldMismatch(name, expected, got);
    }

    function _signal(uint16 index, uint256[] calldata signals) internal pure returns (uint256) {
        return index == 0 ? 0 : signals[index - 1];
    }

    function _store(AttestRequest calldata request, uint256 policyHash, bytes32 statement) internal returns (bytes32 uid) {
        Attestation memory a;
        a.circuit = request.circuit;
        a.subject = request.subject;
        a.attester = msg.sender;
        a.expirationTime = request.expirationTime;
        a.refUID = request.refUID;
        a.revocable = request.revocable;
        a.policyHash = policyHash;
        a.statement = statement;
        return _storeAttestation(a);
    }

    /// @dev Store an attestation (its uid and time set here) after checking its expiry and reference.
    function _storeAttestation(Attestation memory a) internal returns (bytes32 uid) {
        if (a.expirationTime != 0 && a.expirationTime <= block.timestamp) revert BadExpiration(a.expirationTime);
        if (a.refUID != bytes32(0) && attestations[a.refUID].uid == bytes32(0)) revert RefUnknown(a.refUID);
        uid = keccak256(abi.encode(a.circuit, a.subject, a.attester, block.timestamp, a.statement));
        a.uid = uid;
        a.time = uint64(block.timestamp);
        attestations[uid] = a;
    }

    /// @dev Append a node at the frontier's level 0; completed pairs are hashed upwards.
    function _append(ChunkSession storage s, uint256 node) internal {
        uint256 index = s.appended;
        uint256 level = 0;
        while (index & 1 == 1) {
            node = poseidon.poseidon([s.frontier[level], node]);
            index >>= 1;
            level++;
        }
        s.frontier[level] = node;
        s.appended += 1;
    }

    /// @dev Root of a tree of `height` levels above nodes of height `base`, holding the appended nodes then zeros.
    function _frontierRoot(ChunkSession storage s, uint256 height, uint256 base) internal view returns (uint256) {
        uint256 size = s.appended;
        if (size == (uint256(1) << height)) return s.frontier[height];
        uint256 node = zeroRoots[base];
        for (uint256 level = 0; level < height; level++) {
            if ((size >> level) & 1 == 1) node = poseidon.poseidon([s.frontier[level], node]);
            else node = poseidon.poseidon([node, zeroRoots[base + level]]);
        }
        return node;
    }
}

/// @title The rules a circuit registration must follow (deployed by ZkaiRegistry's constructor; a contract of its own
/// so that the registry stays under the EVM's code size limit). Reverts with BadLayout or UnboundSignal.
contract ZkaiCircuitRules {
    error BadLayout(string reason);
    error UnboundSignal(uint256 index);

    /// @notice Check a layout for its kind and that every one of the `n` public signals is bound.
    function check(ZkaiRegistry.Kind kind, ZkaiRegistry.Layout calldata layout, uint256 n, bool hasPurpose, uint16[] calldata listSignals, uint16[] calldata claims) external pure {
        _checkLayout(kind, layout, n, hasPurpose);
        _checkBound(kind, layout, n, listSignals, claims);
    }

    function _checkLayout(ZkaiRegistry.Kind kind, ZkaiRegistry.Layout calldata l, uint256 n, bool hasPurpose) internal pure {
        if (kind == ZkaiRegistry.Kind.None) revert BadLayout("kind");
        uint16[9] memory all = [l.root, l.count, l.policyHash, l.schemaHash, l.modelHash, l.consentRoot, l.chunkDepth, l.chunkSubtrees, l.context];
        for (uint256 i = 0; i < all.length; i++) if (all[i] > n) revert BadLayout("index past the last public signal");
        if (kind == ZkaiRegistry.Kind.DatasetAggregation) {
            // Bound to their chunks through the children's commitments; the chunks carry the context.
            if (l.policyHash != 3 || l.count > 1 || l.root != 0 || l.context != 0 || hasPurpose) revert BadLayout("aggregation circuits publish [commitment or count, slots, policyHash, children...]");
            return;
        }
        if (l.context == 0) revert BadLayout("no context signal: proofs could be replayed or stolen");
        if ((l.consentRoot == 0) == hasPurpose) revert BadLayout("consent root and purpose go together");
        bool chunk = kind == ZkaiRegistry.Kind.DatasetChunk || kind == ZkaiRegistry.Kind.DatasetPrivateChunk;
        if (kind == ZkaiRegistry.Kind.DatasetPolicy || chunk) {
            if (l.root == 0 || l.count == 0 || l.policyHash == 0 || l.schemaHash == 0) revert BadLayout("dataset circuits publish root, count, policy and schema hashes");
        }
        if (chunk) {
            if (l.root != 1 || l.chunkDepth == 0 || l.chunkSubtrees == 0) revert BadLayout("chunk circuits publish their subtree roots first, chunk depth and subtrees");
        }
        if (kind == ZkaiRegistry.Kind.Inference && l.modelHash == 0) revert BadLayout("inference circuits publish the model hash");
        if (kind == ZkaiRegistry.Kind.Inclusion && (l.root == 0 || l.schemaHash == 0)) revert BadLayout("inclusion circuits publish root and schema hash");
        if (kind == ZkaiRegistry.Kind.Accuracy) {
            if (l.root == 0 || l.count <= l.root || l.modelHash == 0 || l.policyHash == 0 || l.chunkDepth == 0) revert BadLayout("accuracy circuits publish their leaves, then their commitment, the model and task hashes and the previous commitment");
        }
    }

    /// @dev Every public signal is bound: a layout field, a consent or list root, a chunk's roots (folded; a private
    /// chunk's commitment, checked by ZkaiPrivateChunks), an accuracy chunk's leaves (folded), or a declared claim.
    function _checkBound(ZkaiRegistry.Kind kind, ZkaiRegistry.Layout calldata l, uint256 n, uint16[] calldata listSignals, uint16[] calldata claims) internal pure {
        if (kind == ZkaiRegistry.Kind.DatasetAggregation) return; // every signal is compared by attestPrivateChunks
        bool[] memory bound = new bool[](n + 1);
        uint16[9] memory fields = [l.root, l.count, l.policyHash, l.schemaHash, l.modelHash, l.consentRoot, l.chunkDepth, l.chunkSubtrees, l.context];
        for (uint256 i = 0; i < fields.length; i++) bound[fields[i]] = true;
        if (kind == ZkaiRegistry.Kind.DatasetChunk || kind == ZkaiRegistry.Kind.DatasetPrivateChunk || kind == ZkaiRegistry.Kind.Accuracy) {
            for (uint256 i = l.root; i < l.count; i++) bound[i] = true;
        }
        for (uint256 i = 0; i < listSignals.length; i++) {
            uint16 signal = listSignals[i];
            if (signal == 0 || signal > n) revert BadLayout("a list root's index is past the last public signal");
            bound[signal] = true;
        }
        for (uint256 i = 0; i < claims.length; i++) {
            uint16 signal = claims[i];
            if (signal == 0 || signal > n) revert BadLayout("a claim's index is past the last public signal");
            bound[signal] = true;
        }
        for (uint256 i = 1; i <= n; i++) if (!bound[i]) revert UnboundSignal(i - 1);
    }
}

/// @title Private chunked dataset proofs (issue 18) for ZkaiRegistry: the aggregation circuits of chunk circuits, and
/// attestation of a whole proof in one transaction. A contract of its own (deployed by the registry's constructor,
/// which it reads and records attestations in) so that the registry stays under the EVM's code size limit.
contract ZkaiPrivateChunks {
    /// @notice The aggregation circuits of a chunk circuit whose chunks publish a salted commitment to their partials
    /// (setAggregation). Their public signals: [commitment (node) or count (root), slots, policyHash, child0...].
    struct Aggregation {
        bytes32 node; // 0: none (then at most fanIn chunks)
        bytes32 root;
        uint16 fanIn;
    }

    /// @notice A private chunked dataset proof, attested in one call: every chunk proof, every node proof (level by
    /// level from the chunks up, the tree derived here from the chunk count and the fan-in) and the root proof; each
    /// set's signals flat, proof i's at i * its circuit's public inputs.
    struct PrivateChunksRequest {
        bytes32 circuit; // the chunk circuit
        bytes32 subject;
        uint64 expirationTime;
        bytes32 refUID;
        bool revocable;
        bytes32 nonce;
        uint256[8][] chunkProofs;
        uint256[] chunkSignals;
        uint256[8][] nodeProofs;
        uint256[] nodeSignals;
        uint256[8] rootProof;
        uint256[] rootSignals;
    }

    /// @notice The chunk proofs of a private chunked proof too large for one transaction, sent in batches
    /// (addPrivateChunks) before the aggregation proofs (finishPrivateChunks). Signals flat, proof i's at i * n.
    struct ChunkBatch {
        bytes32 circuit;
        bytes32 subject;
        bytes32 nonce;
        uint256[8][] chunkProofs;
        uint256[] chunkSignals;
    }

    /// @notice The end of an attestation sent in batches: every chunk's commitment again (checked against the batches'
    /// running hash), the first chunk's signals (for the Attested event), the node proofs and the root proof.
    struct PrivateChunksFinish {
        bytes32 circuit;
        bytes32 subject;
        uint64 expirationTime;
        bytes32 refUID;
        bool revocable;
        bytes32 nonce;
        uint256[] commitments;
        uint256[] firstChunkSignals;
        uint256[8][] nodeProofs;
        uint256[] nodeSignals;
        uint256[8] rootProof;
        uint256[] rootSignals;
    }

    /// @notice A private chunked attestation in batches, per (attester, chunk circuit, subject, nonce): the chunks
    /// accepted so far, their records, the folded subtree roots, the first chunk's registry roots, and running hashes
    /// of the chunks' signals (the statement) and of their commitments.
    struct Session {
        uint64 chunks;
        uint64 records;
        uint64 appended;
        uint64 depth;
        bytes32 roots;
        bytes32 first; // the statement hash after the first chunk
        bytes32 statement;
        bytes32 commitments;
        uint256[33] frontier;
    }

    /// @dev What the registry says of the chunk circuit and the dataset version, read once per attestation.
    struct Trusted {
        ZkaiRegistry.Circuit circuit;
        ZkaiRegistry.Version version;
        ZkaiRegistry.ListBinding[] lists;
        uint256 context;
    }

    /// @dev The dataset tree folded from the chunks' subtree roots, in memory, with the statement hash chained over the
    /// chunks' signals (from the chunk circuit's id) and its value after the first chunk.
    struct Fold {
        uint256[] frontier;
        uint256 appended;
        uint256 records;
        uint256 depth;
        bytes32 roots;
        bytes32 statement;
        bytes32 first;
    }

    // The registry's errors (same signatures, so the registry's ABI decodes them).
    error NotOwner(address caller, address owner);
    error CircuitExists(bytes32 circuit);
    error CircuitUnknown(bytes32 circuit);
    error BadLayout(string reason);
    error WrongKind(bytes32 circuit, ZkaiRegistry.Kind kind);
    error SubjectUnknown(bytes32 id);
    error SubjectKindMismatch(bytes32 subject, ZkaiRegistry.SubjectKind expected, ZkaiRegistry.SubjectKind actual);
    error PublicInputCount(uint256 expected, uint256 got);
    error ContextMismatch(uint256 expected, uint256 got);
    error FieldMismatch(string field, uint256 expected, uint256 got);
    error StaleConsentRoot(bytes32 purpose, uint256 root);
    error RegistryRootsChanged(uint32 chunk);
    error ProofAlreadyUsed(bytes32 nullifier);
    error ChunkShape(string reason);
    error RootMismatch(uint256 combined, uint256 registered);
    error StaleListRoot(bytes32 list, uint256 root);
    error NoAggregation(bytes32 circuit);

    event AggregationSet(bytes32 indexed circuit, bytes32 node, bytes32 root, uint16 fanIn);
    event PrivateChunksAdded(bytes32 indexed subject, address indexed attester, bytes32 indexed circuit, uint64 chunks, uint64 records);
    event PrivateChunksReset(bytes32 indexed subject, address indexed attester, bytes32 indexed circuit);

    /// @dev The most proofs one verifyProofs call of zkai's verifiers takes (their MAX_BATCH).
    uint256 internal constant MAX_BATCH = 128;

    ZkaiRegistry public immutable registry;
    IPoseidon2 public immutable poseidon;
    IConsentRoots public immutable consent;
    IListRoots public immutable lists;
    /// @notice Aggregation circuits of chunk circuits, by chunk circuit id.
    mapping(bytes32 => Aggregation) public aggregations;
    /// @notice Attestations in batches, by keccak256(attester, chunk circuit, subject, nonce).
    mapping(bytes32 => Session) internal sessions;

    constructor(ZkaiRegistry registry_, IPoseidon2 poseidon_, IConsentRoots consent_, IListRoots lists_) {
        registry = registry_;
        poseidon = poseidon_;
        consent = consent_;
        lists = lists_;
    }

    /// @notice Give a chunk circuit whose chunks publish a salted commitment to their partials its aggregation
    /// circuits (the registry's owner only, once): the root, which proves every aggregate's verdict (its layout's count
    /// is signal 1), and the node, which stacks `fanIn` commitments into one (layout count 0; 0 for none, in which case
    /// a later call with the same root and fan-in may add one, for datasets of more than `fanIn` chunks). All pin the
    /// chunk circuit's policy.
    function setAggregation(bytes32 chunk, bytes32 node, bytes32 root, uint16 fanIn) external {
        address owner = registry.owner();
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        ZkaiRegistry.Circuit memory c = _circuit(chunk);
        if (c.kind != ZkaiRegistry.Kind.DatasetPrivateChunk) revert WrongKind(chunk, c.kind);
        Aggregation memory set = aggregations[chunk];
        if (set.root != bytes32(0) && (set.node != bytes32(0) || node == bytes32(0) || set.root != root || set.fanIn != fanIn)) revert CircuitExists(chunk);
        if (fanIn < 2 || fanIn > MAX_BATCH) revert BadLayout("an aggregation circuit takes 2 to 128 children");
        _checkAggregationCircuit(root, c.policyHash, fanIn, 1);
        if (node != bytes32(0)) _checkAggregationCircuit(node, c.policyHash, fanIn, 0);
        aggregations[chunk] = Aggregation({node: node, root: root, fanIn: fanIn});
        emit AggregationSet(chunk, node, root, fanIn);
    }

    function _checkAggregationCircuit(bytes32 id, uint256 policyHash, uint256 fanIn, uint16 count) internal view {
        ZkaiRegistry.Circuit memory a = _circuit(id);
        if (a.kind != ZkaiRegistry.Kind.DatasetAggregation) revert WrongKind(id, a.kind);
        if (a.publicInputs != 3 + fanIn) revert PublicInputCount(3 + fanIn, a.publicInputs);
        if (a.layout.count != count) revert BadLayout(count == 1 ? "the root publishes the count first" : "a node publishes its commitment first");
        if (policyHash == 0 || a.policyHash != policyHash) revert BadLayout("the aggregation circuits pin another policy than the chunk circuit");
    }

    function _circuit(bytes32 id) internal view returns (ZkaiRegistry.Circuit memory c) {
        c = registry.getCircuit(id);
        if (c.verifier == address(0)) revert CircuitUnknown(id);
    }

    /// @notice Attest a dataset proven in private chunks in one call (the attester is the sender): the chunk proofs
    /// publish their subtree roots and a salted commitment to their partials, nodes stack the commitments and the root
    /// proves every aggregate's verdict on them. Checks each chunk like the registry's attestChunk (context, schema,
    /// policy, consent root, record count, the same registry roots), folds the subtree roots and compares them with the
    /// registered root, walks the aggregation tree derived here from the chunk count and the registered fan-in (each
    /// proof's public children must be the commitments of its children, in order, 0 past them; the root's count the
    /// registered count), verifies the chunk proofs and the node proofs in batches (verifyProofs) and the root proof,
    /// then records the attestation in the registry, whose statement (the hash of every signal) is accepted once.
    function attestPrivateChunks(PrivateChunksRequest calldata r) external returns (bytes32 uid) {
        Aggregation memory a = aggregations[r.circuit];
        Trusted memory t = _trusted(r.circuit, r.subject, r.nonce);
        if (a.root == bytes32(0)) revert NoAggregation(r.circuit);
        Fold memory f = Fold({frontier: new uint256[](33), appended: 0, records: 0, depth: 0, roots: bytes32(0), statement: r.circuit, first: bytes32(0)});
        uint256[] memory commitments = _acceptChunks(t, r.chunkProofs, r.chunkSignals, f, 0);
        _checkCovered(t, f);
        bytes32 statement = f.statement;
        // The chunk signals fix the context, the subtree roots and every commitment: proofs of the tree above them,
        // salted afresh, are not a new statement.
        if (registry.usedStatements(statement)) revert ProofAlreadyUsed(statement);
        commitments = _acceptNodes(r.circuit, r.nodeProofs, r.nodeSignals, a, commitments, t.circuit.policyHash);
        _acceptRoot(r.rootProof, r.rootSignals, a, commitments, t);
        uid = registry.recordPrivateChunks(msg.sender, r.circuit, r.subject, r.expirationTime, r.refUID, r.revocable, statement, r.chunkSignals[0:t.circuit.publicInputs]);
    }

    /// @notice For a proof of more chunks than one transaction holds: add chunk proofs in order, in batches, to the
    /// sender's attestation in progress for (chunk circuit, subject, nonce). Each chunk is checked as attestPrivateChunks
    /// checks it and its subtree roots are folded; the batch's proofs are verified together. Then finishPrivateChunks.
    function addPrivateChunks(ChunkBatch calldata b) external {
        Trusted memory t = _trusted(b.circuit, b.subject, b.nonce);
        if (aggregations[b.circuit].root == bytes32(0)) revert NoAggregation(b.circuit);
        Session storage s = sessions[keccak256(abi.encode(msg.sender, b.circuit, b.subject, b.nonce))];
        Fold memory f = _load(s);
        uint256 before = s.chunks;
        if (before == 0) f.statement = b.circuit;
        uint256[] memory commitments = _acceptChunks(t, b.chunkProofs, b.chunkSignals, f, before);
        bytes32 running = s.commitments;
        for (uint256 j = 0; j < commitments.length; j++) running = keccak256(abi.encode(running, commitments[j]));
        s.commitments = running;
        s.chunks = uint64(before + commitments.length);
        _store(s, f);
        emit PrivateChunksAdded(b.subject, msg.sender, b.circuit, s.chunks, s.records);
    }

    /// @notice End an attestation sent in batches: the added chunks must cover the dataset and fold into its root, the
    /// commitments given must be theirs (their running hash), then the aggregation tree and the root proof are checked
    /// as attestPrivateChunks checks them, and the attestation is recorded with the same statement as one call would.
    function finishPrivateChunks(PrivateChunksFinish calldata r) external returns (bytes32 uid) {
        Aggregation memory a = aggregations[r.circuit];
        Trusted memory t = _trusted(r.circuit, r.subject, r.nonce);
        if (a.root == bytes32(0)) revert NoAggregation(r.circuit);
        bytes32 key = keccak256(abi.encode(msg.sender, r.circuit, r.subject, r.nonce));
        bytes32 statement = _checkSession(sessions[key], r, t);
        uint256[] memory commitments = _acceptNodes(r.circuit, r.nodeProofs, r.nodeSignals, a, r.commitments, t.circuit.policyHash);
        _acceptRoot(r.rootProof, r.rootSignals, a, commitments, t);
        delete sessions[key];
        uid = _recordFinished(r, statement);
    }

    /// @dev A session ready to finish: its chunks cover the dataset and fold into its root, the commitments and the
    /// first chunk's signals given are its own, that chunk's registry roots are still current; returns its statement.
    function _checkSession(Session storage s, PrivateChunksFinish calldata r, Trusted memory t) internal view returns (bytes32 statement) {
        if (s.chunks == 0) revert ChunkShape("no chunk proofs were added (addPrivateChunks)");
        _checkCovered(t, _load(s));
        if (r.commitments.length != s.chunks) revert ChunkShape("one commitment per added chunk");
        bytes32 running = bytes32(0);
        for (uint256 j = 0; j < r.commitments.length; j++) running = keccak256(abi.encode(running, r.commitments[j]));
        if (running != s.commitments) revert ChunkShape("the commitments are not those of the added chunks");
        if (r.firstChunkSignals.length != t.circuit.publicInputs || keccak256(abi.encode(r.circuit, r.firstChunkSignals)) != s.first)
            revert ChunkShape("the first chunk's signals are not those of the first added chunk");
        // Every chunk carries the first one's registry roots: they must still be current or recent now, so a session
        // left open past a revocation cannot finish on old roots.
        _checkRootsCurrent(t, r.firstChunkSignals);
        statement = s.statement;
        if (registry.usedStatements(statement)) revert ProofAlreadyUsed(statement);
    }

    function _recordFinished(PrivateChunksFinish calldata r, bytes32 statement) internal returns (bytes32) {
        return registry.recordPrivateChunks(msg.sender, r.circuit, r.subject, r.expirationTime, r.refUID, r.revocable, statement, r.firstChunkSignals);
    }

    /// @notice Drop the sender's attestation in progress for (chunk circuit, subject, nonce), to start again.
    function resetPrivateChunks(bytes32 circuit, bytes32 subject, bytes32 nonce) external {
        delete sessions[keccak256(abi.encode(msg.sender, circuit, subject, nonce))];
        emit PrivateChunksReset(subject, msg.sender, circuit);
    }

    /// @notice Chunks and records of an attestation in progress.
    function privateChunksProgress(address attester, bytes32 circuit, bytes32 subject, bytes32 nonce) external view returns (uint64 chunks, uint64 records) {
        Session storage s = sessions[keccak256(abi.encode(attester, circuit, subject, nonce))];
        return (s.chunks, s.records);
    }

    /// @dev The added chunks cover the dataset's records and their subtree roots fold into its registered root.
    function _checkCovered(Trusted memory t, Fold memory f) internal view {
        if (f.records != t.version.count) revert ChunkShape("the chunks do not cover the dataset's records");
        uint256 combined = _foldedRoot(f, t.version.depth - f.depth);
        if (combined != t.version.root) revert RootMismatch(combined, t.version.root);
    }

    /// @dev The root proof: its count is the registered count, its children the last level's commitments.
    function _acceptRoot(uint256[8] calldata proof, uint256[] calldata signals, Aggregation memory a, uint256[] memory commitments, Trusted memory t) internal view {
        uint256 fanIn = a.fanIn;
        if (signals.length != 3 + fanIn) revert PublicInputCount(3 + fanIn, signals.length);
        if (signals[0] != t.version.count) revert FieldMismatch("count", t.version.count, signals[0]);
        _checkChildren(signals, commitments, 0, fanIn, t.circuit.policyHash);
        IZkaiVerifier(_circuit(a.root).verifier).verifyProof(proof, signals);
    }

    /// @dev A session's fold, in memory.
    function _load(Session storage s) internal view returns (Fold memory f) {
        f = Fold({frontier: new uint256[](33), appended: s.appended, records: s.records, depth: s.depth, roots: s.roots, statement: s.statement, first: s.first});
        for (uint256 level = 0; level < 33 && (uint256(1) << level) <= f.appended; level++) f.frontier[level] = s.frontier[level];
    }

    /// @dev Write a fold back to its session.
    function _store(Session storage s, Fold memory f) internal {
        s.appended = uint64(f.appended);
        s.records = uint64(f.records);
        s.depth = uint64(f.depth);
        s.roots = f.roots;
        s.statement = f.statement;
        s.first = f.first;
        for (uint256 level = 0; level < 33 && (uint256(1) << level) <= f.appended; level++) s.frontier[level] = f.frontier[level];
    }

    /// @dev The chunk circuit (a DatasetChunk circuit), the dataset version, the lists and the attester's context.
    function _trusted(bytes32 circuit, bytes32 subject, bytes32 nonce) internal view returns (Trusted memory t) {
        t.circuit = _circuit(circuit);
        if (t.circuit.kind != ZkaiRegistry.Kind.DatasetPrivateChunk) revert WrongKind(circuit, t.circuit.kind);
        t.version = registry.getVersion(subject);
        if (t.version.kind == ZkaiRegistry.SubjectKind.None) revert SubjectUnknown(subject);
        if (t.version.kind != ZkaiRegistry.SubjectKind.Dataset) revert SubjectKindMismatch(subject, ZkaiRegistry.SubjectKind.Dataset, t.version.kind);
        (t.lists, ) = registry.getCircuitBindings(circuit);
        t.context = registry.contextOf(msg.sender, nonce);
    }

    /// @dev Check chunks `first`.. in order, fold their subtree roots into f and chain their signals into f.statement
    /// (from the chunk circuit's id, so one call and batches give the same statement; f.first after the first chunk),
    /// verify their proofs in batches; returns their commitments in order.
    function _acceptChunks(Trusted memory t, uint256[8][] calldata proofs, uint256[] calldata signals, Fold memory f, uint256 first)
        internal
        view
        returns (uint256[] memory commitments)
    {
        uint256 n = t.circuit.publicInputs;
        uint256 k = proofs.length;
        if (k == 0 || signals.length != k * n) revert PublicInputCount(k * n, signals.length);
        commitments = new uint256[](k);
        for (uint256 j = 0; j < k; j++) {
            uint256[] calldata chunk = signals[j * n:(j + 1) * n];
            commitments[j] = _acceptChunk(t, chunk, first + j, f);
            f.statement = keccak256(abi.encode(f.statement, chunk));
            if (first + j == 0) f.first = f.statement;
        }
        _verifyInBatches(t.circuit.verifier, proofs, signals, n);
    }

    /// @dev One chunk: its checks, its registry roots (the first chunk's checked, the others' equal to them), its
    /// subtree roots folded (the ones past the last record must be empty); returns its commitment.
    function _acceptChunk(Trusted memory t, uint256[] calldata signals, uint256 j, Fold memory f) internal view returns (uint256) {
        uint256 subtrees = _checkChunk(t, signals, f);
        _sameRoots(t, signals, j, f);
        uint256 used = (t.version.count + (uint256(1) << f.depth) - 1) >> f.depth; // subtrees holding records
        uint256 zero = registry.zeroRoots(f.depth);
        for (uint256 s = 0; s < subtrees; s++) {
            if (j * subtrees + s < used) _append(f, signals[s]);
            else if (signals[s] != zero) revert ChunkShape("a subtree past the last record is not empty");
        }
        return signals[subtrees];
    }

    /// @dev A chunk's context, schema and policy hashes, shape and record count (the records before it are f.records);
    /// records its depth and records in f; returns its subtrees.
    function _checkChunk(Trusted memory t, uint256[] calldata s, Fold memory f) internal pure returns (uint256 subtrees) {
        ZkaiRegistry.Layout memory l = t.circuit.layout;
        if (s[l.context - 1] != t.context) revert ContextMismatch(t.context, s[l.context - 1]);
        if (s[l.schemaHash - 1] != t.version.schemaHash) revert FieldMismatch("schemaHash", t.version.schemaHash, s[l.schemaHash - 1]);
        if (s[l.policyHash - 1] != t.circuit.policyHash) revert FieldMismatch("policyHash", t.circuit.policyHash, s[l.policyHash - 1]);
        uint256 depth = s[l.chunkDepth - 1];
        subtrees = s[l.chunkSubtrees - 1];
        if (depth > t.version.depth) revert ChunkShape("chunk depth above the dataset's tree depth");
        if (l.count != subtrees + 2) revert ChunkShape("a private chunk publishes its subtree roots, its commitment, then its count");
        if (f.records >= t.version.count) revert ChunkShape("more chunks than the dataset's records need");
        uint256 left = t.version.count - f.records;
        uint256 records = left < (subtrees << depth) ? left : subtrees << depth;
        if (s[l.count - 1] != records) revert FieldMismatch("count", records, s[l.count - 1]);
        f.depth = depth;
        f.records += records;
    }

    /// @dev The first chunk's consent and list roots must be current or recent; every other chunk's must equal them.
    function _sameRoots(Trusted memory t, uint256[] calldata s, uint256 j, Fold memory f) internal view {
        uint16 at = t.circuit.layout.consentRoot;
        bytes32 h = keccak256(abi.encode(at == 0 ? 0 : s[at - 1]));
        for (uint256 i = 0; i < t.lists.length; i++) h = keccak256(abi.encode(h, s[t.lists[i].signal - 1]));
        if (j != 0) {
            if (h != f.roots) revert RegistryRootsChanged(uint32(j));
            return;
        }
        f.roots = h;
        _checkRootsCurrent(t, s);
    }

    /// @dev A chunk's consent and list roots are current or recent (within their windows).
    function _checkRootsCurrent(Trusted memory t, uint256[] calldata s) internal view {
        uint16 at = t.circuit.layout.consentRoot;
        if (at != 0 && !consent.isKnownRoot(t.circuit.consentPurpose, s[at - 1])) revert StaleConsentRoot(t.circuit.consentPurpose, s[at - 1]);
        for (uint256 i = 0; i < t.lists.length; i++) {
            uint256 root = s[t.lists[i].signal - 1];
            if (!lists.isKnownRoot(t.lists[i].list, root)) revert StaleListRoot(t.lists[i].list, root);
        }
    }

    /// @dev Walk the node levels (each proof's children, slots and policy checked), verify the node proofs in batches;
    /// returns the commitments the root's children must be.
    function _acceptNodes(bytes32 circuit, uint256[8][] calldata nodeProofs, uint256[] calldata nodeSignals, Aggregation memory a, uint256[] memory children, uint256 policyHash)
        internal
        view
        returns (uint256[] memory)
    {
        uint256 fanIn = a.fanIn;
        uint256 n = 3 + fanIn;
        uint256 total = 0;
        for (uint256 width = children.length; width > fanIn; ) {
            width = (width + fanIn - 1) / fanIn;
            total += width;
        }
        if (nodeProofs.length != total || nodeSignals.length != total * n) revert ChunkShape("the node proofs are not those of the aggregation tree of the chunks");
        if (total == 0) return children;
        if (a.node == bytes32(0)) revert NoAggregation(circuit);
        uint256 done = 0;
        while (children.length > fanIn) {
            uint256[] memory parents = new uint256[]((children.length + fanIn - 1) / fanIn);
            for (uint256 g = 0; g < parents.length; g++) {
                uint256[] calldata signals = nodeSignals[(done + g) * n:(done + g + 1) * n];
                _checkChildren(signals, children, g * fanIn, fanIn, policyHash);
                parents[g] = signals[0];
            }
            done += parents.length;
            children = parents;
        }
        _verifyInBatches(_circuit(a.node).verifier, nodeProofs, nodeSignals, n);
        return children;
    }

    /// @dev Verify proofs of one key, MAX_BATCH at a time (signals flat, `n` per proof).
    function _verifyInBatches(address verifier, uint256[8][] calldata proofs, uint256[] calldata signals, uint256 n) internal view {
        uint256 k = proofs.length;
        for (uint256 i = 0; i < k; i += MAX_BATCH) {
            uint256 end = i + MAX_BATCH < k ? i + MAX_BATCH : k;
            IZkaiVerifier(verifier).verifyProofs(proofs[i:end], signals[i * n:end * n]);
        }
    }

    /// @dev An aggregation proof's slots, policy and public children: the commitments from `offset` on, 0 past them.
    function _checkChildren(uint256[] calldata signals, uint256[] memory children, uint256 offset, uint256 fanIn, uint256 policyHash) internal pure {
        uint256 count = children.length - offset < fanIn ? children.length - offset : fanIn;
        if (signals[1] != count) revert FieldMismatch("slots", count, signals[1]);
        if (signals[2] != policyHash) revert FieldMismatch("policyHash", policyHash, signals[2]);
        for (uint256 i = 0; i < fanIn; i++) {
            uint256 want = i < count ? children[offset + i] : 0;
            if (signals[3 + i] != want) revert FieldMismatch("child", want, signals[3 + i]);
        }
    }

    /// @dev Append a node of height f.depth at the frontier's level 0; completed pairs are hashed upwards.
    function _append(Fold memory f, uint256 node) internal view {
        uint256 index = f.appended;
        uint256 level = 0;
        while (index & 1 == 1) {
            node = poseidon.poseidon([f.frontier[level], node]);
            index >>= 1;
            level++;
        }
        f.frontier[level] = node;
        f.appended += 1;
    }

    /// @dev Root of a tree of `height` levels above the appended nodes (height f.depth), completed with zero subtrees.
    function _foldedRoot(Fold memory f, uint256 height) internal view returns (uint256) {
        uint256 size = f.appended;
        if (size == (uint256(1) << height)) return f.frontier[height];
        uint256 node = registry.zeroRoots(f.depth);
        for (uint256 level = 0; level < height; level++) {
            if ((size >> level) & 1 == 1) node = poseidon.poseidon([f.frontier[level], node]);
            else node = poseidon.poseidon([node, registry.zeroRoots(f.depth + level)]);
        }
        return node;
    }
}
