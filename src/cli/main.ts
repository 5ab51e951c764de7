#!/usr/bin/env node
import { Command, Option } from 'commander';
import { releaseCurves } from '../util/curves.ts';
import { reportError, type GlobalFlags } from './output.ts';
import { stopProgressBars } from './progress-bar.ts';
import { addCeremonyCommands, ZKEY_OPTION_HELP } from './ceremony-cli.ts';

// Command modules load when their command runs (they import snarkjs, ethers, circom...): `zkai --help` stays fast.
const lazy = <M>(load: () => Promise<M>): (() => Promise<M>) => {
  let loaded: Promise<M> | undefined;
  return () => (loaded ??= load());
};
const commands = lazy(() => import('./commands.ts'));
const dataCommands = lazy(() => import('./data-commands.ts'));
const modelCommands = lazy(() => import('./model-commands.ts'));
const accuracyCommands = lazy(() => import('./accuracy-commands.ts'));
const consentCommands = lazy(() => import('./consent-commands.ts'));
const chainCommands = lazy(() => import('./chain-commands.ts'));
const serveModule = lazy(() => import('./serve-command.ts'));
const registerCommands = lazy(() => import('./register-commands.ts'));
const doctorModule = lazy(() => import('./doctor.ts'));

const program = new Command('zkai')
  .description('Zero-knowledge proofs about private AI data and models: compile, set up, prove, verify off-chain and on chain.')
  .option('--json', 'print results as JSON on stdout (progress stays on stderr)')
  .option('--quiet', 'no progress output')
  .option('--debug', 'print the stack trace of an error and of its causes')
  .option('--cache-dir <dir>', 'cache folder for circuits, ptau and keys (default: $ZKAI_CACHE_DIR, else ~/.cache/zkai)')
  .showHelpAfterError();

const compileOptions = (command: Command) =>
  command
    .addOption(new Option('--O <level>', 'circom simplification level').choices(['0', '1', '2']).default('2'))
    .option('-l, --include <dir...>', 'extra include folders (circomlib is always included)');
const setupOptions = (command: Command) =>
  compileOptions(command)
    .option('--ptau <file>', 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)')
    .option('--beacon <hex>', 'apply a final random beacon with this public random value (hex)')
    .option('--beacon-iterations <exp>', 'beacon hash iterations as a power of two (10..63)', '10')
    .option('--verify', 'verify the final zkey against the r1cs and the ptau')
    .option('--force', 'set up again even if keys are cached');

let flags: GlobalFlags = {};
const run =
  <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
  async (...args: A): Promise<void> => {
    await action(...args);
  };

function merged<T extends object>(command: Command): T & GlobalFlags {
  const local = command.opts() as Record<string, unknown>;
  const global = program.opts() as GlobalFlags;
  const optimization = local.O as string | undefined;
  flags = { ...global, ...local, ...(optimization ? { optimization } : {}) } as GlobalFlags;
  return flags as T & GlobalFlags;
}

compileOptions(program.command('compile').argument('<circuit>', 'circom source file').description('compile a circuit (cached) and report its size'))
  .action(run(async (circuit: string, _options: unknown, command: Command) => (await commands()).compileCommand(circuit, merged(command))));

setupOptions(program.command('setup').argument('<circuit>', 'circom source file').description('Groth16 trusted setup: proving and verification keys (cached)'))
  .action(run(async (circuit: string, _options: unknown, command: Command) => (await commands()).setupCommand(circuit, merged(command))));

setupOptions(
  program
    .command('prove')
    .argument('<circuit>', 'circom source file')
    .description('prove an input, or a batch of inputs in the prover pool (compiles and sets up first, from cache when possible); writes snarkjs-compatible files')
    .option('-i, --input <file>', 'circuit input as JSON; repeat it for a batch (-i a.json -i b.json)', (file: string, files: string[] = []) => [...files, file])
    .option('--inputs <dir>', 'a batch: every *.json in this folder, sorted (*.proof.json and *.public.json are skipped)')
    .option('--out-dir <dir>', 'for a batch: write NAME.proof.json and NAME.public.json here for each input NAME.json')
    .option('-p, --proof <file>', 'where to write the proof of one input (default: proof.json)')
    .option('--public <file>', 'where to write the public signals of one input (default: public.json)')
    .option('--workers <n>', 'prover worker threads (default: 1 for one input, adapted to the core count for a batch)')
    .option('--timeout <ms>', 'give up on a proof after this many milliseconds (0: no limit)', '0')
    .option('--zkey <file>', ZKEY_OPTION_HELP)
    .addHelpText('after', '\nA batch proves every input even when some fail; each failure names its input file, and the exit code is 1 if any failed:\n  zkai prove CIRCUIT.circom --inputs inputs/ --out-dir proofs/\n  zkai prove CIRCUIT.circom -i a.json -i b.json --out-dir proofs/ --json'),
).action(run(async (circuit: string, _options: unknown, command: Command) => (await commands()).proveCommand(circuit, merged(command))));

program
  .command('verify')
  .description('verify a Groth16 proof off-chain (exit code 1 if invalid); snarkjs files work as they are')
  .requiredOption('--vkey <file>', 'verification_key.json')
  .option('--trust-key', 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)')
  .requiredOption('--proof <file>', 'proof.json')
  .requiredOption('--public <file>', 'public.json')
  .option('--expect <index=value...>', 'also require public signal INDEX to equal VALUE (a commitment, a policy hash)')
  .action(run(async (_options: unknown, command: Command) => (await commands()).verifyCommand(merged(command))));

setupOptions(
  program
    .command('deploy')
    .description('deploy a Solidity verifier for a circuit (embedded anvil unless --rpc), optionally checking a proof on chain')
    .option('--circuit <file>', 'circom source file (compiled and set up from cache when possible)')
    .option('--zkey <file>', 'an existing proving key instead of --circuit')
    .option('--rpc <url>', 'JSON-RPC URL of an EVM node (default: start anvil on 127.0.0.1 and stop it afterwards); signer from ZKAI_PRIVATE_KEY or the node\'s first account')
    .option('--proof <file>', 'a proof to verify on chain after deploying')
    .option('--public <file>', 'its public signals')
    .option('--out <file>', 'write the deployment record as JSON'),
).action(run(async (_options: unknown, command: Command) => (await commands()).deployCommand(merged(command))));

program
  .command('demo')
  .description('the whole pipeline on a built-in circuit: compile, setup, a batch of pooled proofs, off-chain and on-chain verification')
  .option('--proofs <n>', 'proofs in the batch', '8')
  .option('--workers <n>', 'prover worker threads (default: adapted to the core count)')
  .option('--rpc <url>', 'EVM node (default: embedded anvil)')
  .option('--ptau <file>', 'a Perpetual Powers of Tau file instead of a development one')
  .action(run(async (_options: unknown, command: Command) => (await commands()).demoCommand(merged(command))));

addCeremonyCommands(program, { compileOptions, merged });

const data = program
  .command('data')
  .description('private datasets: commit (public root + private bundle), check against a policy, prove the policy holds, verify such a proof, prove one record is included (include, verify-include)');

data
  .command('commit')
  .description('ingest a dataset, commit to it with fresh salts: writes the PRIVATE bundle and the public commitment')
  .requiredOption('--schema <file>', 'schema JSON')
  .requiredOption('--data <file>', 'the dataset: .csv, .json or .ndjson')
  .requiredOption('--bundle <file>', 'where to write the private bundle (records + salts; mode 0600)')
  .option('--public <file>', 'where to write the public commitment JSON {root, count, depth, schemaHash}')
  .option('--force', 'overwrite an existing bundle (its salts are lost: proofs about its root can no longer be made)')
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataCommitCommand(merged(command))));

data
  .command('check')
  .description('pre-flight: evaluate a policy on a dataset or a bundle and list every violation (exit code 1 if it fails)')
  .requiredOption('--schema <file>', 'schema JSON')
  .requiredOption('--policy <file>', 'policy JSON')
  .option('--data <file>', 'a dataset file (.csv, .json, .ndjson)')
  .option('--bundle <file>', 'a bundle written by zkai data commit')
  .option('--registry <file...>', 'registry files the policy checks ids against (zkai data registry makes them)')
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataCheckCommand(merged(command))));

data
  .command('prove')
  .description('prove that a committed dataset satisfies a policy (generates, compiles and sets up its circuit, cached)')
  .requiredOption('--schema <file>', 'schema JSON')
  .requiredOption('--policy <file>', 'policy JSON')
  .requiredOption('--bundle <file>', 'the private bundle written by zkai data commit')
  .requiredOption('--out <file>', 'where to write the dataset proof JSON')
  .option('--ptau <file>', 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)')
  .option('--vkey-out <file>', 'also write a copy of the verification key here')
  .option('--zkey <file>', `${ZKEY_OPTION_HELP}; with --chunk-depth, the chunk circuit's key`)
  .option('--chunk-depth <n>', 'prove in chunks of aligned subtrees of 2^n records, in parallel (for datasets larger than one circuit); verify takes the chunk circuit\'s key')
  .option('--subtrees-per-chunk <k>', 'with --chunk-depth: each chunk proof covers k consecutive subtrees (fills a proof better; the README lists shapes that fit a 2^14 ptau)', '1')
  .option('--context <decimal>', 'bind the proof to this context for zkai chain attest (zkai chain context prints it; default 0: off chain)')
  .option('--registry <file...>', 'registry files the policy checks ids against (zkai data registry makes them)')
  .addOption(new Option('--force-violating', 'DANGEROUS, for demonstrations only: skip the pre-flight check to show that the circuit itself refuses a violating dataset').hideHelp())
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataProveCommand(merged(command))));

data
  .command('verify')
  .description('verify a dataset proof against the schema, the policy and the published commitment you trust (exit code 1 if invalid)')
  .requiredOption('--vkey <file>', 'verification key of the policy circuit')
  .option('--trust-key', 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)')
  .requiredOption('--proof <file>', 'dataset proof JSON written by zkai data prove')
  .requiredOption('--schema <file>', 'schema JSON')
  .requiredOption('--policy <file>', 'policy JSON')
  .option('--commitment <file>', 'the published commitment JSON')
  .option('--root <decimal>', 'the published root (with --count, instead of --commitment)')
  .option('--count <n>', 'the published record count')
  .option('--registry <name=root|file...>', 'for a policy with registries: the root you trust for each, as NAME=ROOT or a registry file')
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataVerifyCommand(merged(command))));

data
  .command('registry')
  .description('build a registry (a consent set, an opt-out list) from a list of ids: writes the registry file and prints its root, which verifiers trust')
  .requiredOption('--schema <file>', 'schema JSON (ids are encoded like the data)')
  .requiredOption('--field <column>', 'the column whose values the registry lists (usually the subject id)')
  .requiredOption('--ids <file>', 'the ids: one per line exactly as in the data, or a .json array')
  .requiredOption('--name <name>', 'the registry name the policy uses')
  .requiredOption('--depth <n>', 'tree depth: holds up to 2^n - 1 ids; the policy names the same depth (each level costs about 240 constraints per record)')
  .requiredOption('--out <file>', 'where to write the registry file')
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataRegistryCommand(merged(command))));

data
  .command('include')
  .description('prove that one record is in the committed dataset (public: root, subject hash, schema hash; nothing else), for a data subject asking "was my record used?"')
  .requiredOption('--schema <file>', 'schema JSON (it must name a non-nullable "subjectId" column)')
  .requiredOption('--bundle <file>', 'the private bundle written by zkai data commit')
  .option('--subject <id>', 'the record\'s subject id, written as in the data')
  .option('--row <n>', 'the record\'s row number in the source file (alone, or with --subject when several records share the id)')
  .option('--context <decimal>', 'bind the proof to this context for zkai chain attest (zkai chain context prints it; default 0: off chain)')
  .requiredOption('--out <file>', 'where to write the inclusion proof JSON')
  .option('--vkey-out <file>', 'also write a copy of the verification key here')
  .option('--ptau <file>', 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)')
  .option('--zkey <file>', ZKEY_OPTION_HELP)
  .addHelpText(
    'after',
    '\nThe data subject verifies the proof with their own id and the published commitment:\n  zkai data verify-include --vkey VKEY.json --proof PROOF.json --schema SCHEMA.json --commitment COMMITMENT.json --subject ID',
  )
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataIncludeCommand(merged(command))));

data
  .command('verify-include')
  .description('verify an inclusion proof: a record with this subject id is in the dataset of the published commitment (exit code 1 if invalid)')
  .requiredOption('--vkey <file>', 'verification key of the inclusion circuit')
  .option('--trust-key', 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)')
  .requiredOption('--proof <file>', 'inclusion proof JSON written by zkai data include')
  .requiredOption('--schema <file>', 'schema JSON')
  .requiredOption('--subject <id>', 'the subject id to check, written as in the data')
  .option('--commitment <file>', 'the published commitment JSON')
  .option('--root <decimal>', 'the published root (instead of --commitment)')
  .action(run(async (_options: unknown, command: Command) => (await dataCommands()).dataVerifyIncludeCommand(merged(command))));

const model = program
  .command('model')
  .description('AI models (MLPs and small CNNs): import ONNX, inspect cost and quantization, commit, prove a prediction or an accuracy, verify');

const rangeOptions = (command: Command) =>
  command
    .option('--input-min <x>', 'for an ONNX model: the smallest value an input can take')
    .option('--input-max <x>', 'for an ONNX model: the largest value an input can take');

rangeOptions(
  model
    .command('import')
    .argument('<file.onnx>', 'an ONNX model (PyTorch or tf2onnx export of an MLP or a small CNN)')
    .description('convert an ONNX model into zkai\'s native JSON model (Softmax at the output becomes argmax)')
    .requiredOption('--out <file>', 'where to write the native model JSON')
    .option('--name <name>', 'the model name (default: the ONNX graph name)'),
).action(run(async (file: string, _options: unknown, command: Command) => (await modelCommands()).modelImportCommand(file, merged(command))));

rangeOptions(
  model
    .command('inspect')
    .argument('<model>', 'native model JSON or ONNX file')
    .description('layers, quantization, constraint estimate per layer and float-vs-quantized agreement, before any setup is paid for')
    .option('--frac-bits <n>', 'fractional bits of the fixed point, or auto (calibrate on --samples: the fewest at which every sample keeps the float model\'s class)', '8')
    .option('--samples <file>', 'sample inputs (a JSON array, or {inputs, labels}) to calibrate on and compare float (onnxruntime for ONNX) and quantized predictions')
    .option('--max-disagreement <n>', 'with --frac-bits auto: accept a setting at which up to n samples prove another class than the float model (default 0)')
    .option('--input-visibility <v>', 'estimate for an input that is hashed (default), public or private')
    .option('--weights <v>', 'estimate for weights fixed in the circuit (default) or hashed (private, committed)')
    .option('--public-input', 'same as --input-visibility public'),
).action(run(async (file: string, _options: unknown, command: Command) => (await modelCommands()).modelInspectCommand(file, merged(command))));

rangeOptions(
  model
    .command('commit')
    .description('commit to a model\'s weights for private-weight proofs: a public salted commitment and its PRIVATE salt')
    .requiredOption('--model <file>', 'native model JSON or ONNX file')
    .requiredOption('--out <file>', 'where to write the public commitment JSON')
    .requiredOption('--salt-out <file>', 'where to write the PRIVATE salt (mode 0600)')
    .option('--frac-bits <n>', 'fractional bits of the fixed point', '8'),
).action(run(async (_options: unknown, command: Command) => (await modelCommands()).modelCommitCommand(merged(command))));

rangeOptions(
  model
    .command('prove')
    .description('prove the model\'s predicted class on an input (default: input private, a salted commitment to it public)')
    .requiredOption('--model <file>', 'native model JSON or ONNX file')
    .requiredOption('--input <file>', 'the input: a JSON array of numbers')
    .requiredOption('--out <file>', 'where to write the inference proof JSON')
    .option('--salt-out <file>', 'where to write the input commitment\'s salt (PRIVATE; needed unless --public-input)')
    .option('--input-visibility <v>', 'hashed (default: a salted commitment is public), public (the values are public) or private (nothing about the input is public)')
    .option('--public-input', 'same as --input-visibility public')
    .option('--model-salt <file>', 'keep the weights PRIVATE: prove against the model commitment made by zkai model commit (its salt file)')
    .option('--frac-bits <n>', 'fractional bits of the fixed point, or auto (calibrate on --samples, as zkai model inspect does; the choice is printed, and the verifier needs it)', '8')
    .option('--samples <file>', 'with --frac-bits auto: sample inputs (a JSON array, or {inputs, labels}) to calibrate on')
    .option('--max-disagreement <n>', 'with --frac-bits auto: accept a setting at which up to n samples prove another class than the float model (default 0)')
    .option('--vkey-out <file>', 'also write a copy of the verification key here')
    .option('--ptau <file>', 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)')
    .option('--zkey <file>', ZKEY_OPTION_HELP)
    .option('--context <decimal>', 'bind the proof to this context for zkai chain attest (zkai chain context prints it; default 0: off chain)'),
).action(run(async (_options: unknown, command: Command) => (await modelCommands()).modelProveCommand(merged(command))));

rangeOptions(
  model
    .command('verify')
    .description('verify an inference or accuracy proof against the model, quantization and task YOU state (exit code 1 if invalid); nothing that decides the verdict is taken from the proof file')
    .requiredOption('--vkey <file>', 'verification key of the model\'s circuit')
    .option('--trust-key', 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)')
    .requiredOption('--proof <file>', 'inference proof JSON')
    .option('--model <file>', 'for fixed-weight proofs: the model you trust (native JSON or ONNX); its hash must match the proof')
    .option('--model-commitment <decimal>', 'for private-weight proofs: the published model commitment you trust')
    .option('--frac-bits <n>', 'REQUIRED with --model, and for accuracy proofs: the fractional bits you expect the model quantized with (part of the model hash and of the task; no default)')
    .option('--class <n>', 'require this predicted class (default: the class the proof claims, printed)')
    .option('--input-hash <decimal>', 'require this input commitment (default: the one the proof claims)')
    .option('--input <file>', 'for a public-input proof: require this input (JSON array of numbers)')
    .option('--commitment <file>', 'for an accuracy proof: the test set\'s published commitment JSON')
    .option('--root <decimal>', 'for an accuracy proof: the test set\'s root (with --count, instead of --commitment)')
    .option('--count <n>', 'for an accuracy proof: the test set\'s record count')
    .option('--schema <file>', 'for an accuracy proof: the test set\'s schema')
    .option('--min-accuracy <x>', 'for an accuracy proof: the lowest accuracy you accept, a fraction (0.95)')
    .option('--label <column>', 'for an accuracy proof (required): the label column')
    .option('--features <columns>', 'for an accuracy proof (this or --all-features required): the comma-separated feature columns, in model input order')
    .option('--all-features', 'for an accuracy proof: the features are every column but the label and the subject id, in schema order')
    .option('--scale <x>', 'for an accuracy proof (required): model input = column value x scale'),
).action(run(async (_options: unknown, command: Command) => (await modelCommands()).modelVerifyCommand(merged(command))));

rangeOptions(
  model
    .command('accuracy')
    .description('prove a model\'s accuracy on a committed test set (a bundle from zkai data commit) without revealing the records')
    .requiredOption('--model <file>', 'native model JSON or ONNX file')
    .requiredOption('--bundle <file>', 'the test set\'s private bundle (zkai data commit)')
    .requiredOption('--schema <file>', 'the test set\'s schema')
    .requiredOption('--label <column>', 'the label column: integer from 0 (class k is the value k) or category (class k is its k-th value)')
    .option('--features <columns>', 'comma-separated model input columns, in model input order (default: every column but the label and subject id)')
    .option('--scale <x>', 'model input = column value x scale (default 1); must be exact at the fixed point')
    .requiredOption('--out <file>', 'where to write the accuracy proof JSON')
    .option('--samples-per-chunk <n>', 'test records per proof (default: as many as fill a 2^14 circuit)')
    .option('--model-salt <file>', 'keep the weights PRIVATE: prove against the model commitment made by zkai model commit (its salt file)')
    .option('--frac-bits <n>', 'fractional bits of the fixed point', '8')
    .option('--vkey-out <file>', 'also write a copy of the verification key here')
    .option('--ptau <file>', 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)')
    .option('--zkey <file>', ZKEY_OPTION_HELP)
    .option('--context <decimal>', 'bind the proof to this context for zkai chain attest (zkai chain context prints it; default 0: off chain)'),
).action(run(async (_options: unknown, command: Command) => (await accuracyCommands()).modelAccuracyCommand(merged(command))));

const chain = program
  .command('chain')
  .description('the zkai registry on an EVM chain: deploy, bind proofs to an attester (context), attest, revoke, list attestations, manage consent purposes (embedded development chain unless --rpc)');

const chainOptions = (command: Command) =>
  command
    .option('--rpc <url>', 'JSON-RPC URL of an EVM node; signer from ZKAI_PRIVATE_KEY or the node\'s first account (default: an embedded anvil whose state is kept in the cache)')
    .option('--deployment <file>', 'the deployment file (default: zkai-deployment.json with --rpc, else in the embedded chain\'s folder)')
    .option('--chain-dir <dir>', 'folder of the embedded chain\'s state and deployment (default: <cache dir>/chain/embedded)');

chainOptions(chain.command('deploy'))
  .description('deploy the zkai registry, the consent registry and Poseidon, and record them in the deployment file (kept when already deployed on this chain)')
  .option('--force', 'deploy again even if the deployment file names a deployment on this chain')
  .option('--fresh', 'embedded chain only: delete its state first (a new, empty chain)')
  .action(run(async (_options: unknown, command: Command) => (await chainCommands()).chainDeployCommand(merged(command))));

chainOptions(chain.command('context'))
  .description('the context to prove with (--context) for this account, registry and a nonce; then attest with the same nonce')
  .option('--nonce <hex32>', 'the nonce (0x and 64 hex digits; default: a random one)')
  .action(run(async (_options: unknown, command: Command) => (await chainCommands()).chainContextCommand(merged(command))));

chainOptions(chain.command('register'))
  .argument('<proof.json>', 'a proof of the circuit to register (it gives the circuit\'s shape only: kind, depth, chunk shape, visibility)')
  .description('register a circuit (registry owner), regenerated here from YOUR source (schema and policy, or model and task), with a key checked against it: a ceremony key (--zkey --ptau) holding your own contribution or with a transcript you verify (--transcript), or with --development your own single-party setup')
  .option('--schema <file>', 'dataset, inclusion and accuracy circuits: the schema they are generated from')
  .option('--policy <file>', 'dataset circuits: the policy they are generated from (a chunk circuit\'s aggregate judge too)')
  .option('--depth <n>', 'inclusion circuits: the tree depth, when the proof file does not say it')
  .option('--model <file>', 'inference and accuracy circuits: the model (native JSON or ONNX)')
  .option('--frac-bits <n>', 'with --model: the fractional bits it is quantized with (part of the model hash; no default)')
  .option('--input-min <x>', 'ONNX models: the lowest input value')
  .option('--input-max <x>', 'ONNX models: the highest input value')
  .option('--label <column>', 'accuracy circuits: the label column (part of the task)')
  .option('--features <columns>', 'accuracy circuits: the model\'s input columns, comma-separated, in model input order')
  .option('--all-features', 'accuracy circuits: every column but the label and the subject id, in schema order')
  .option('--scale <x>', 'accuracy circuits: model input = column value x scale')
  .option('--zkey <file>', 'the final zkey of the circuit\'s ceremony (zkai ceremony); checked against the circuit regenerated here and --ptau')
  .option('--ptau <file>', 'with --zkey: the ptau its ceremony started from (a published file, or one this machine generated)')
  .option('--transcript <file>', 'with --zkey: the ceremony transcript, verified now (needed unless the chain holds a contribution of yours)')
  .option('--contribution <hash...>', 'with --transcript: a contribution in the chain you trust (its hash, published by a party you trust); a transcript alone does not say who contributed')
  .option('--development', 'register your own automatic single-party setup (DEVELOPMENT-ONLY: you could forge proofs with it; the chain records it as such)')
  .option('--consent-registry <name>', 'the policy registry whose root is an on-chain consent root (with --purpose)')
  .option('--purpose <name>', 'the consent purpose (name or 0x id) that registry\'s root must be a recent root of')
  .option('--list <registry=list...>', 'bind each other policy registry (an opt-out list) to a curated list: REGISTRY=LIST, or REGISTRY for a list of the same name')
  .option('--uri <text>', 'where the circuit\'s source and key are published')
  .action(run(async (proof: string, _options: unknown, command: Command) => (await registerCommands()).chainRegisterCommand(proof, merged(command))));

chainOptions(chain.command('check-circuit'))
  .argument('<circuit-id>', 'the registered circuit (its verification key id, 0x and 64 hex digits)')
  .description('re-check a registration, as anyone can: regenerate the circuit from YOUR source with the registered shape, compare it with the registered source descriptor, and check the published zkey (exit code 1 if it differs)')
  .option('--schema <file>', 'dataset, inclusion and accuracy circuits: the schema you trust')
  .option('--policy <file>', 'dataset circuits: the policy you trust')
  .option('--model <file>', 'inference and accuracy circuits: the model you trust')
  .option('--frac-bits <n>', 'with --model: its fractional bits (no default)')
  .option('--input-min <x>', 'ONNX models: the lowest input value')
  .option('--input-max <x>', 'ONNX models: the highest input value')
  .option('--label <column>', 'accuracy circuits: the label column')
  .option('--features <columns>', 'accuracy circuits: the model\'s input columns, in model input order')
  .option('--all-features', 'accuracy circuits: every column but the label and the subject id')
  .option('--scale <x>', 'accuracy circuits: model input = column value x scale')
  .option('--zkey <file>', 'the published zkey of the circuit: checked against the regenerated r1cs and --ptau, and against the registration')
  .option('--ptau <file>', 'with --zkey: the ptau its chain started from')
  .action(run(async (id: string, _options: unknown, command: Command) => (await registerCommands()).chainCheckCircuitCommand(id, merged(command))));

chainOptions(chain.command('attest'))
  .argument('<proof.json>', 'a dataset (whole or chunked), inference, inclusion or accuracy proof made with --context')
  .description('attest a proof on the registry (its circuit registered by the owner with zkai chain register): registers its dataset or model when new, then verifies it on chain')
  .option('--nonce <hex32>', 'the nonce the proof\'s context was made with (zkai chain context)')
  .option('--label <text>', 'name of the dataset or model to register (at most 31 bytes; default: the model name, or data-<schema hash>); an existing version with the proof\'s fields is reused')
  .option('--expires <when>', 'expiration: an ISO date (2027-01-31) or +SECONDS from now')
  .option('--irrevocable', 'the attestation cannot be revoked')
  .option('--ref <uid>', 'an earlier attestation this one refers to')
  .option('--zkey <file>', 'the proving key the proof was made with (default: found in the cache by the proof\'s circuit); it only names the circuit, whose registration decides')
  .option('--subject <version>', 'attest about this dataset or model version id instead of finding or registering one')
  .option('--commitment <file>', 'for an inclusion proof of a dataset not registered yet: its public commitment JSON (zkai data commit --public)')
  .option('--test-set <version>', 'accuracy proofs: attest against this test-set (dataset) version id instead of finding or registering one')
  .option('--test-set-label <text>', 'accuracy proofs: name of the test set to register (default: data-<schema hash>); an existing version with the same commitment is reused')
  .action(run(async (proof: string, _options: unknown, command: Command) => (await chainCommands()).chainAttestCommand(proof, merged(command))));

const list = chain.command('list').description('curated lists (opt-out lists): the registry owner creates one and names its curator, who publishes its roots');

chainOptions(list.command('create'))
  .argument('<name>', 'the list name (its id is the keccak256 of the name)')
  .description('create a curated list (registry owner) and name its curator')
  .requiredOption('--curator <address>', 'the account that publishes the list\'s roots')
  .requiredOption('--window <seconds>', 'how long a replaced root stays acceptable (0: only the current root)')
  .action(run(async (name: string, _options: unknown, command: Command) => (await registerCommands()).chainListCreateCommand(name, merged(command))));

chainOptions(list.command('publish'))
  .argument('<name>', 'the list name')
  .description('publish a list\'s new root (its curator, or the registry owner)')
  .option('--registry <file>', 'the registry file (zkai data registry) whose root to publish; its root is rebuilt from its ids')
  .option('--schema <file>', 'with --registry: the schema its ids are encoded with')
  .option('--root <decimal>', 'the root itself, instead of --registry')
  .action(run(async (name: string, _options: unknown, command: Command) => (await registerCommands()).chainListPublishCommand(name, merged(command))));

chainOptions(list.command('show'))
  .argument('<name>', 'the list name')
  .description('a curated list: its curator, window and current root')
  .action(run(async (name: string, _options: unknown, command: Command) => (await registerCommands()).chainListShowCommand(name, merged(command))));

chainOptions(chain.command('revoke'))
  .argument('<uid>', 'the attestation uid')
  .description('revoke an attestation (its attester only)')
  .action(run(async (uid: string, _options: unknown, command: Command) => (await chainCommands()).chainRevokeCommand(uid, merged(command))));

chainOptions(chain.command('attestations'))
  .description('list attestations (uid, circuit kind, subject, attester, time, valid/revoked/expired)')
  .option('--subject <version>', 'only those about this dataset or model version id')
  .option('--attester <address>', 'only those made by this address')
  .action(run(async (_options: unknown, command: Command) => (await chainCommands()).chainAttestationsCommand(merged(command))));

const consent = chain.command('consent').description('on-chain consent purposes: create one, grant and revoke consent, read its tree');

chainOptions(consent.command('create'))
  .description('create a consent purpose (you become its admin)')
  .requiredOption('--purpose <name>', 'the purpose name (its id is the keccak256 of the name)')
  .requiredOption('--depth <n>', 'tree depth, 1 to 24: up to 2^n grants')
  .requiredOption('--window <seconds>', 'how long a replaced root stays acceptable to the registry (0: only the current root; at most 2592000, 30 days)')
  .option('--description <text>', 'free text, emitted in the creation event')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentCreateCommand(merged(command))));

chainOptions(consent.command('grant'))
  .description('grant consent as the signer (the data subject: an account), or with --for as the delegate that subject named; the contract derives the leaf from the subject\'s account')
  .requiredOption('--purpose <name>', 'the purpose (name or 0x id)')
  .option('--for <address>', 'grant for this subject, as the delegate it named (zkai chain consent delegate)')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentGrantCommand(merged(command))));

chainOptions(consent.command('revoke'))
  .description('revoke a grant (its subject or their delegate)')
  .requiredOption('--purpose <name>', 'the purpose (name or 0x id)')
  .requiredOption('--index <n>', 'the leaf index the grant printed')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentRevokeCommand(merged(command))));

chainOptions(consent.command('delegate'))
  .description('name the one account that may grant and revoke consent for you (the signer), or remove it')
  .option('--to <address>', 'the delegate')
  .option('--clear', 'remove your delegate')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentDelegateCommand(merged(command))));

chainOptions(consent.command('sign'))
  .description('sign a consent request as the subject (the signer), for anyone to send with relay: your account needs no ether (EIP-712; valid once, on this chain\'s consent registry only)')
  .requiredOption('--out <file>', 'write the signed request here')
  .option('--purpose <name>', 'the purpose (name or 0x id), with --grant or --revoke')
  .option('--grant', 'sign a grant')
  .option('--revoke <index>', 'sign the revocation of this leaf (yours)')
  .option('--delegate <address>', 'sign naming this delegate')
  .option('--clear-delegate', 'sign removing your delegate')
  .option('--valid <seconds>', 'how long the signature stays valid (default 86400: a day; at most 30 days)')
  .option('--force', 'replace --out if it exists')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentSignCommand(merged(command))));

chainOptions(consent.command('cancel'))
  .description('cancel every consent request you (the signer) signed that nobody relayed yet (a revocation or a delegate change does it too)')
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentCancelCommand(merged(command))));

chainOptions(consent.command('relay'))
  .argument('<file>', 'a signed consent request (zkai chain consent sign)')
  .description('send a consent request a subject signed (you pay the gas; the contract checks the signature, its nonce and deadline)')
  .action(run(async (file: string, _options: unknown, command: Command) => (await consentCommands()).chainConsentRelayCommand({ ...merged(command), file })));

chainOptions(consent.command('tree'))
  .description('a purpose\'s current root and leaves, rebuilt from the chain\'s events; with --out, a consent registry file to prove a policy\'s MEMBER-OF requirement against')
  .requiredOption('--purpose <name>', 'the purpose (name or 0x id)')
  .option('--out <file>', 'write a consent registry file (for zkai data check | prove | verify --registry FILE); needs --schema, --field, --name')
  .option('--schema <file>', 'with --out: schema JSON (ids are encoded like the data)')
  .option('--field <column>', 'with --out: the address column holding each subject\'s account (the leaves are derived from accounts)')
  .option('--name <name>', 'with --out: the registry name the policy uses')
  .option('--ids <file>', 'with --out: your subjects\' accounts, one per line exactly as in the data or a .json array (as zkai data registry --ids); without it no account is a member')
  .option('--block <n>', 'read the tree at this block (default: the latest)')
  .addHelpText(
    'after',
    '\nProve a dataset against the on-chain consent tree:\n  zkai chain consent tree --purpose P --schema S --field account --name consent --ids ACCOUNTS --out consent-registry.json\n  zkai data prove --schema S --policy POLICY --bundle B --registry consent-registry.json --context CTX --out proof.json\n  zkai chain register proof.json --schema S --policy POLICY --development --consent-registry consent --purpose P   (registry owner, once)\n  zkai chain attest proof.json --nonce NONCE',
  )
  .action(run(async (_options: unknown, command: Command) => (await consentCommands()).chainConsentTreeCommand(merged(command))));

program
  .command('doctor')
  .description('check Node, the cache folder (size, cached ptau powers, circuits, keys), circom, solc, anvil, memory and cores; says what to do about each problem (exit code 1 if a check fails)')
  .action(run(async (_options: unknown, command: Command) => (await doctorModule()).doctorCommand(merged(command))));

program
  .command('serve')
  .description('HTTP verification service: POST /v1/verify, GET /v1/circuits, GET /v1/attestations (with --rpc and --deployment), GET /health, GET /openapi.json')
  .option('--port <n>', 'port to listen on (0: any free port)', '8080')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--vkey <file...>', 'verification key files, or folders of them, whose circuits the service knows by their key alone (pairing verdicts, no decoded claim)')
  .option('--statement <file...>', 'statement files: a verification key and what you trust it proves (schema + policy, model + fractional bits, task); the service decodes and pins those circuits\' claims')
  .option('--no-cache-keys', 'do not load the keys of the cache (--cache-dir)')
  .option('--allow-unknown-keys', 'answer a request whose verification key the service does not know (not its cache\'s, a --vkey or --statement file\'s, nor the chain registry\'s) with a pairing verdict instead of refusing it (UNTRUSTED_KEY)')
  .option('--rpc <url>', 'JSON-RPC URL of the chain to read attestations from (with --deployment)')
  .option('--deployment <file>', 'the zkai deployment file on that chain (zkai chain deploy writes it)')
  .option('--body-limit <bytes>', 'largest request body accepted', String(1024 * 1024))
  .option('--workers <n>', 'verifier worker threads (default: the core count, at most 4)')
  .option('--timeout <ms>', 'longest a verification may take, queueing included (0: no limit)', '10000')
  .option('--max-chunks <n>', 'most chunk proofs one verify request may carry', '2048')
  .option('--verify-deadline <ms>', 'longest one verify request may keep the verifiers busy', '60000')
  .option('--log-level <level>', 'pino log level on stdout: fatal, error, warn, info, debug (default info; warn with --quiet)')
  .action(run(async (_options: unknown, command: Command) => (await serveModule()).serveCommand(merged(command))));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError({ ...(program.opts() as GlobalFlags), ...flags }, error);
} finally {
  stopProgressBars();
  await releaseCurves();
}
