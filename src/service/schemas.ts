/**
 * The JSON schemas of the service: request bodies and queries (validated by fastify's ajv) and responses (documented in
 * the OpenAPI document, which {@link buildOpenApiDocument} builds from this module).
 */
import { CIRCUIT_KINDS } from '../chain/registry.ts';
import { PROOF_FILE_FORMATS, type ProofFileFormat } from '../statement/index.ts';
import { BASE_FORMAT, SCALAR_FORMAT } from './field-formats.ts';
import { SERVICE_CIRCUIT_KINDS } from './signals.ts';

/** Proof file formats the CLI writes, which `POST /v1/verify` takes as they are (the statement module's list). */
export { PROOF_FILE_FORMATS, type ProofFileFormat };

/** Why a proof was rejected (the verifier's reasons). */
export const REJECTION_REASONS = ['malformed', 'wrong-signal-count', 'claim-mismatch', 'invalid-proof'] as const;

/** Most public signals (and chunks) a request may carry. */
export const MAX_SIGNALS = 4096;

const scalar = {
  type: 'string',
  format: SCALAR_FORMAT,
  maxLength: 78,
  description: 'decimal string below the BN254 scalar field order r',
} as const;
const base = {
  type: 'string',
  format: BASE_FORMAT,
  maxLength: 78,
  description: 'decimal string below the BN254 base field order q',
} as const;
const bytes32 = { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$', description: '0x and 64 hex digits' } as const;
const address = {
  type: 'string',
  pattern: '^0x[0-9a-fA-F]{40}$',
  description: 'an EVM address: 0x and 40 hex digits',
} as const;
const count = { type: 'integer', minimum: 0, maximum: 2 ** 53 - 1 } as const;
const nullableString = { type: ['string', 'null'] } as const;

const g1 = (length: { minItems: number; maxItems: number }) => ({ type: 'array', items: base, ...length }) as const;
const g2 = (length: { minItems: number; maxItems: number }) =>
  ({ type: 'array', items: { type: 'array', items: base, minItems: 2, maxItems: 2 }, ...length }) as const;

/** A snarkjs Groth16 proof (`proof.json`): projective points, z = 1. */
export const proofSchema = {
  type: 'object',
  description: 'a snarkjs Groth16 proof (proof.json)',
  required: ['pi_a', 'pi_b', 'pi_c'],
  properties: {
    pi_a: g1({ minItems: 3, maxItems: 3 }),
    pi_b: g2({ minItems: 3, maxItems: 3 }),
    pi_c: g1({ minItems: 3, maxItems: 3 }),
    protocol: { type: 'string', enum: ['groth16'] },
    curve: { type: 'string', enum: ['bn128'] },
  },
} as const;

/** Public signals (`public.json`). */
export const publicSignalsSchema = {
  type: 'array',
  items: scalar,
  maxItems: MAX_SIGNALS,
  description: 'public signals (public.json), in circuit order',
} as const;

/** A snarkjs Groth16 verification key (`verification_key.json`). */
export const verificationKeySchema = {
  type: 'object',
  description: 'a snarkjs Groth16 verification key (verification_key.json)',
  required: ['protocol', 'curve', 'nPublic', 'vk_alpha_1', 'vk_beta_2', 'vk_gamma_2', 'vk_delta_2', 'IC'],
  properties: {
    protocol: { type: 'string', enum: ['groth16'] },
    curve: { type: 'string', enum: ['bn128'] },
    nPublic: { type: 'integer', minimum: 0, maximum: MAX_SIGNALS },
    vk_alpha_1: g1({ minItems: 2, maxItems: 3 }),
    vk_beta_2: g2({ minItems: 2, maxItems: 3 }),
    vk_gamma_2: g2({ minItems: 2, maxItems: 3 }),
    vk_delta_2: g2({ minItems: 2, maxItems: 3 }),
    IC: { type: 'array', items: g1({ minItems: 2, maxItems: 3 }), minItems: 1, maxItems: MAX_SIGNALS + 1 },
  },
} as const;

const commitmentSchema = {
  type: 'object',
  description: 'a published dataset commitment',
  properties: { root: scalar, count, depth: { type: 'integer', minimum: 0, maximum: 30 }, schemaHash: scalar },
} as const;

/**
 * Body of `POST /v1/verify`: a proof with its public signals (or the chunks of a chunked proof), and the circuit: an id
 * of `GET /v1/circuits`, a verification key, or, for a zkai proof file, its own `circuitId`. A proof file written by
 * the CLI (`zkai data prove`, `data include`, `model prove`, `model accuracy`) is such a body as it is; what the file
 * states about its signals (root, count, policy hash, model hash, class...) is checked against them.
 */
export const verifyBodySchema = {
  type: 'object',
  properties: {
    format: {
      type: 'string',
      enum: PROOF_FILE_FORMATS,
      description: 'a zkai proof file format; absent for a bare snarkjs proof',
    },
    proof: proofSchema,
    publicSignals: publicSignalsSchema,
    chunks: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_SIGNALS,
      description: 'the chunk proofs of a chunked dataset or accuracy proof file',
      items: {
        type: 'object',
        required: ['proof', 'publicSignals'],
        properties: { index: count, proof: proofSchema, publicSignals: publicSignalsSchema },
      },
    },
    aggregation: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      description:
        'a private chunked dataset proof file (zkai-chunked-dataset-proof-v2): its aggregation proofs, level by level from the chunks up to the root. The service checks them against the tree it derives from the count and its own fan-in, with keys it trusts for the policy (a dataset-private-chunks statement and its cache); how many levels the file holds decides nothing',
      items: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_SIGNALS,
        items: {
          type: 'object',
          required: ['proof', 'publicSignals'],
          properties: { proof: proofSchema, publicSignals: publicSignalsSchema },
        },
      },
    },
    circuit: { ...bytes32, description: 'the circuit id (as GET /v1/circuits and the chain registry name it)' },
    verificationKey: {
      ...verificationKeySchema,
      description:
        'a snarkjs Groth16 verification key (verification_key.json) instead of a circuit id: used only when the service knows it (by id: its own compiled circuit, a --vkey or --statement file) or the chain registry has it registered; any other key is refused (403 UNTRUSTED_KEY) unless the service was started with --allow-unknown-keys',
    },
    kind: {
      type: 'string',
      enum: SERVICE_CIRCUIT_KINDS,
      description:
        "the kind the caller believes the circuit is: checked against the service's own, never used (a disagreement is a 400)",
    },
    signalNames: {
      type: 'array',
      maxItems: MAX_SIGNALS,
      items: { type: 'string', minLength: 1, maxLength: 200 },
      description:
        'the names the caller (or a chunked proof file) gives the public signals: checked against the layout the service derives itself, never used (a disagreement is a 400; for a circuit the service knows only by its key, a 400 too)',
    },
    expect: {
      type: 'object',
      description: 'claims the verifier requires: public signal name (or index) -> value',
      maxProperties: MAX_SIGNALS,
      propertyNames: { pattern: '^[A-Za-z0-9_.]{1,200}$' },
      additionalProperties: scalar,
    },
    circuitId: {
      type: 'string',
      maxLength: 200,
      description: "a zkai proof file's compiled circuit id (used to find its key among the known circuits)",
    },
    commitment: commitmentSchema,
    testSet: commitmentSchema,
    policy: { type: 'object', properties: { name: { type: 'string' }, hash: scalar } },
    registries: {
      type: 'array',
      maxItems: MAX_SIGNALS,
      items: {
        type: 'object',
        required: ['name', 'root'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, root: scalar },
      },
    },
    model: { type: 'object', properties: { name: { type: 'string' }, hash: scalar, commitment: scalar } },
    visibility: { type: 'string', enum: ['hashed', 'public', 'private'] },
    weights: { type: 'string', enum: ['fixed', 'hashed'] },
    predicted: count,
    inputHash: scalar,
    input: { type: 'array', items: scalar, maxItems: MAX_SIGNALS },
    root: scalar,
    subjectHash: scalar,
    schemaHash: scalar,
    chunkDepth: { type: 'integer', minimum: 0, maximum: 64 },
    subtreesPerChunk: { type: 'integer', minimum: 1, maximum: MAX_SIGNALS },
    samplesPerChunk: { type: 'integer', minimum: 1, maximum: MAX_SIGNALS },
    task: { type: 'object', properties: { taskHash: scalar } },
  },
} as const;

const signalSchema = {
  type: 'object',
  required: ['index', 'name', 'meaning'],
  properties: { index: { type: 'integer' }, name: { type: 'string' }, meaning: { type: 'string' } },
} as const;

const claimsSchema = {
  type: ['object', 'null'],
  description: 'what the proof claims: its public signals by name, with their meaning',
  required: ['kind', 'values', 'signals'],
  properties: {
    kind: { type: 'string', enum: SERVICE_CIRCUIT_KINDS },
    values: { type: 'object', additionalProperties: { type: 'string' } },
    signals: {
      type: 'array',
      items: {
        ...signalSchema,
        required: [...signalSchema.required, 'value'],
        properties: { ...signalSchema.properties, value: { type: 'string' } },
      },
    },
  },
} as const;

const verdictProperties = {
  valid: { type: 'boolean' },
  reason: {
    type: ['string', 'null'],
    enum: [...REJECTION_REASONS, null],
    description: 'why the proof was rejected (null when valid)',
  },
  detail: { ...nullableString, description: 'the rejection in words' },
  mismatches: {
    type: 'array',
    items: {
      type: 'object',
      required: ['index', 'expected', 'actual'],
      properties: {
        index: { type: 'integer' },
        name: { type: 'string' },
        expected: { type: 'string' },
        actual: { type: 'string' },
      },
    },
  },
  claims: claimsSchema,
} as const;

/** Response of `POST /v1/verify`. */
export const verifyResponseSchema = {
  type: 'object',
  required: ['valid', 'reason', 'detail', 'claims', 'claimsChecked', 'circuit'],
  properties: {
    ...verdictProperties,
    claimsChecked: {
      type: 'boolean',
      description:
        'true: the service knows what each public signal of this circuit means (from its own compiled circuit or a statement file it was started with) and checked the claims on that layout; false: it knows the circuit only by its key, so `valid` means only that the pairing check passed and no claim was decoded or checked',
    },
    circuit: {
      type: 'object',
      required: ['id', 'kind', 'known', 'namesFrom'],
      properties: {
        id: { type: 'string' },
        kind: { type: 'string', enum: SERVICE_CIRCUIT_KINDS },
        name: nullableString,
        known: {
          type: 'boolean',
          description:
            'the key is one of the known circuits (false: an unknown key given in the request, answered only by a service started with --allow-unknown-keys)',
        },
        namesFrom: {
          type: ['string', 'null'],
          enum: ['compiled-circuit', 'statement', 'chain-registry', null],
          description: 'where the meaning of the signals comes from (never from the request)',
        },
      },
    },
    chunks: {
      type: 'array',
      description: 'chunked proofs: the verdict of each chunk',
      items: {
        type: 'object',
        required: ['index', 'valid', 'reason', 'detail', 'claims'],
        properties: { index: { type: 'integer' }, ...verdictProperties },
      },
    },
    privateChunks: {
      type: 'object',
      description:
        "a private chunked dataset proof (zkai-chunked-dataset-proof-v2): what the verdict was reached with, all of it the service's own (its trusted statement of the policy, its fan-in, the tree it derives from the count, the keys of its cache); `circuit` is then the root circuit, and no chunk's claims are returned (chunks[].claims is null)",
      required: [
        'statement',
        'policy',
        'schemaHash',
        'fanIn',
        'chunkDepth',
        'subtreesPerChunk',
        'aggregationLevels',
        'aggregationChecked',
        'registries',
        'keys',
      ],
      properties: {
        statement: { type: 'string', description: 'the name of the dataset-private-chunks statement checked' },
        policy: {
          type: 'object',
          required: ['name', 'hash'],
          properties: { name: { type: 'string' }, hash: { type: 'string' } },
        },
        schemaHash: { type: 'string' },
        fanIn: { type: 'integer', description: "children per aggregation proof: the service's, never the file's" },
        chunkDepth: { type: 'integer' },
        subtreesPerChunk: { type: 'integer' },
        aggregationLevels: {
          type: 'array',
          items: { type: 'integer' },
          description:
            'aggregation proofs per level, from the chunks up to the root, as the service derives them from the count and its fan-in (empty when the verdict came before)',
        },
        aggregationChecked: { type: 'integer', description: 'aggregation proofs checked' },
        registries: {
          type: 'array',
          description: "the registry roots the statement pins (the chunk proofs' roots must be these)",
          items: {
            type: 'object',
            required: ['name', 'root'],
            properties: { name: { type: 'string' }, root: { type: 'string' } },
          },
        },
        keys: {
          type: 'object',
          description: "the key of each circuit (null: not reached, or no node level), from the service's cache",
          required: ['chunk', 'node', 'root'],
          properties: Object.fromEntries(
            ['chunk', 'node', 'root'].map((circuit) => [
              circuit,
              {
                type: ['object', 'null'],
                required: ['id', 'circuit', 'source', 'detail'],
                properties: {
                  id: { type: 'string', description: "the key's registry id" },
                  circuit: { type: 'string', description: 'the compiled circuit the key was made for' },
                  source: {
                    type: 'string',
                    enum: ['own-setup', 'verified-ceremony'],
                    description: "the service's own setup of that circuit, or a ceremony of it this machine verified",
                  },
                  detail: { type: 'string' },
                },
              },
            ]),
          ),
        },
      },
    },
    note: { type: 'string', description: 'what this verdict does not cover' },
  },
} as const;

/** A known circuit. */
export const circuitSummarySchema = {
  type: 'object',
  required: ['id', 'name', 'kind', 'nPublic', 'namesKnown', 'namesFrom', 'pins', 'source', 'compiledId', 'signals'],
  properties: {
    id: bytes32,
    name: { type: 'string' },
    kind: { type: 'string', enum: SERVICE_CIRCUIT_KINDS },
    nPublic: { type: 'integer' },
    namesKnown: { type: 'boolean', description: 'false: the signal names are placeholders (signal0...)' },
    namesFrom: {
      type: ['string', 'null'],
      enum: ['compiled-circuit', 'statement', 'chain-registry', null],
      description:
        "the service's source for what the signals mean: its own compiled circuit, a statement file, the chain registry's registration, or none (pairing verdicts only)",
    },
    pins: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'values every proof of this circuit must show, from a trusted statement (policy hash, model hash...)',
    },
    source: {
      type: 'string',
      enum: ['file', 'cache', 'chain'],
      description:
        'where the key came from: a file, the cache, or the chain registry (a key a request sent whose id is registered)',
    },
    compiledId: nullableString,
    signals: { type: 'array', items: signalSchema },
  },
} as const;

/** Response of `GET /v1/circuits`. */
export const circuitListSchema = {
  type: 'object',
  required: ['circuits'],
  properties: { circuits: { type: 'array', items: circuitSummarySchema } },
} as const;

/** Response of `GET /v1/circuits/:id`: the summary and the verification key. */
export const circuitDetailSchema = {
  type: 'object',
  required: [...circuitSummarySchema.required, 'verificationKey'],
  properties: { ...circuitSummarySchema.properties, verificationKey: { type: 'object' } },
} as const;

/** Path parameters of `GET /v1/circuits/:id`. */
export const circuitParamsSchema = { type: 'object', required: ['id'], properties: { id: bytes32 } } as const;

/** Query of `GET /v1/attestations`. */
export const attestationsQuerySchema = {
  type: 'object',
  properties: {
    subject: { ...bytes32, description: 'a dataset or model version id' },
    attester: address,
  },
  additionalProperties: false,
} as const;

/** One attestation as `GET /v1/attestations` lists it. */
export const attestationSchema = {
  type: 'object',
  required: [
    'uid',
    'kind',
    'circuit',
    'subject',
    'attester',
    'time',
    'status',
    'revoked',
    'valid',
    'publicSignals',
    'txHash',
    'blockNumber',
  ],
  properties: {
    uid: bytes32,
    kind: { type: 'string', enum: [...CIRCUIT_KINDS, 'unknown'] },
    circuit: bytes32,
    subject: bytes32,
    attester: address,
    time: { type: 'string', description: 'ISO 8601 time of the attestation block' },
    expirationTime: { type: 'integer', description: 'unix seconds; 0: never' },
    revocationTime: { type: 'integer', description: 'unix seconds; 0: not revoked' },
    revocable: { type: 'boolean' },
    refUID: bytes32,
    policyHash: { type: 'string' },
    status: { type: 'string', enum: ['valid', 'revoked', 'expired'] },
    revoked: { type: 'boolean' },
    revocationTxHash: { ...nullableString, description: 'the transaction that revoked it' },
    valid: { type: 'boolean', description: 'unrevoked and unexpired now (the registry says)' },
    publicSignals: { type: 'array', items: { type: 'string' } },
    claims: claimsSchema,
    txHash: { type: 'string' },
    blockNumber: { type: 'integer' },
    accuracy: {
      type: 'object',
      description:
        "an accuracy attestation: correct of the test set's total records predicted right, as the registry recorded it",
      required: ['testSet', 'correct', 'total'],
      properties: {
        testSet: { ...bytes32, description: "the test set's dataset version id" },
        correct: { type: 'integer' },
        total: { type: 'integer' },
      },
    },
  },
} as const;

/** Response of `GET /v1/attestations`. */
export const attestationListSchema = {
  type: 'object',
  required: ['chainId', 'registry', 'attestations'],
  properties: {
    chainId: { type: 'integer' },
    registry: address,
    attestations: { type: 'array', items: attestationSchema },
  },
} as const;

/** Response of `GET /health`. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'circuits', 'verifier', 'chain'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    circuits: { type: 'integer', description: 'known circuits' },
    verifier: {
      type: 'object',
      properties: { workers: { type: 'integer' }, queued: { type: 'integer' }, completed: { type: 'integer' } },
    },
    chain: {
      type: 'object',
      properties: { configured: { type: 'boolean' }, rpc: nullableString, registry: nullableString },
    },
  },
} as const;

/** Every error answer: the HTTP status, a stable code, a sentence, and the fields at fault. */
export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'code', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    message: { type: 'string' },
    hint: { type: 'string' },
    fields: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'JSON pointer into the body or query' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;
