// Compiles contracts/src/FedAggLedger.sol with solc-js (npm `solc`, pinned in package.json) and OpenZeppelin from
// node_modules, offline, into contracts/artifacts/FedAggLedger.json.
//
//   node contracts/compile.mjs           write the artifact
//   node contracts/compile.mjs --check   recompile and exit 1 if the committed artifact differs
//   --artifact=PATH                       read/write PATH instead (relative to the repository root or absolute);
//                                         with --check it may repeat: every PATH is checked against one compile
//
// Paths handed to solc are relative to the repository root and sources are read with LF line endings, so the
// output is byte-identical on every machine. Any solc error or warning fails the script.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const contractName = 'FedAggLedger';
const sourcePath = 'contracts/src/FedAggLedger.sol';
const defaultArtifactPath = 'contracts/artifacts/FedAggLedger.json';
const expectedSolc = '0.8.30';

// The solc settings, stored in the artifact. evmVersion is explicit (anvil 1.7.1 runs every fork up to Osaka/BPO1);
// bytecodeHash "none" keeps the metadata hash out of the bytecode.
const settings = {
  evmVersion: 'prague',
  optimizer: { enabled: true, runs: 1000000 },
  viaIR: true,
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function fail(message) {
  process.stderr.write(`compile.mjs: ${message}\n`);
  process.exit(1);
}

function readSource(path) {
  return readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
}

function sha256(text) {
  return '0x' + createHash('sha256').update(text, 'utf8').digest('hex');
}

let check = false;
const artifactPaths = [];
for (const arg of process.argv.slice(2)) {
  if (arg === '--check') {
    check = true;
  } else if (arg.startsWith('--artifact=') && arg.length > '--artifact='.length) {
    artifactPaths.push(arg.slice('--artifact='.length));
  } else {
    fail(`unknown argument ${arg}; usage: node contracts/compile.mjs [--check] [--artifact=PATH]...`);
  }
}

if (artifactPaths.length === 0) {
  artifactPaths.push(defaultArtifactPath);
} else if (!check && artifactPaths.length > 1) {
  fail('--artifact may repeat only with --check');
}

let solc;
try {
  solc = require('solc');
} catch (error) {
  fail(`cannot load the npm package solc (${error.message}): run \`npm ci\` in ${root}`);
}

const version = solc.version();
if (!version.startsWith(expectedSolc + '+')) {
  fail(`solc ${version} is installed, ${expectedSolc} is required: run \`npm ci\` in ${root}`);
}

const sources = new Map();
sources.set(sourcePath, readSource(join(root, sourcePath)));

function findImport(path) {
  const file = join(root, 'node_modules', path);
  if (!path.startsWith('@openzeppelin/contracts/') || !existsSync(file)) {
    return { error: `import ${path} not found in node_modules/@openzeppelin/contracts (run npm ci)` };
  }

  const contents = readSource(file);
  sources.set(path, contents);
  return { contents };
}

const input = {
  language: 'Solidity',
  sources: { [sourcePath]: { content: sources.get(sourcePath) } },
  settings,
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
const problems = (output.errors ?? []).filter((e) => e.severity !== 'info');
if (problems.length > 0) {
  fail(`solc reported ${problems.length} error(s)/warning(s):\n${problems.map((e) => e.formattedMessage).join('\n')}`);
}

const contract = output.contracts?.[sourcePath]?.[contractName];
if (!contract) {
  fail(`solc produced no ${contractName} in ${sourcePath}`);
}

const sourceHashes = {};
for (const path of [...sources.keys()].sort()) {
  sourceHashes[path] = sha256(sources.get(path));
}

const artifact = {
  contractName,
  sourceName: sourcePath,
  compiler: { name: 'solc-js', version },
  settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer, viaIR: settings.viaIR, metadata: settings.metadata },
  sourceHashes,
  sourceHashAlgorithm: 'sha256 of the UTF-8 source with LF line endings',
  abi: contract.abi,
  bytecode: '0x' + contract.evm.bytecode.object,
  deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
};
const text = JSON.stringify(artifact, null, 2) + '\n';
if (!check) {
  const target = resolve(root, artifactPaths[0]);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`wrote ${relative(root, target)} (${(artifact.deployedBytecode.length - 2) / 2} bytes deployed)\n`);
  process.exit(0);
}

// Returns null when the artifact at `path` matches the fresh compile, else why not.
function staleness(path) {
  const target = resolve(root, path);
  if (!existsSync(target)) {
    return `${path} is missing: run \`node contracts/compile.mjs\` and commit it`;
  }

  let committed;
  try {
    committed = JSON.parse(readFileSync(target, 'utf8'));
  } catch (error) {
    return `${path} is not valid JSON (${error.message}): run \`node contracts/compile.mjs\``;
  }

  const differing = ['abi', 'bytecode', 'deployedBytecode', 'compiler', 'settings', 'sourceHashes']
    .filter((key) => JSON.stringify(committed?.[key]) !== JSON.stringify(artifact[key]));
  return differing.length === 0
    ? null
    : `${path} is stale: ${differing.join(', ')} ${differing.length === 1 ? 'differs' : 'differ'} from a fresh compile of ${sourcePath}; run \`node contracts/compile.mjs\` and commit the artifact`;
}

let failed = false;
for (const path of artifactPaths) {
  const problem = staleness(path);
  if (problem === null) {
    process.stdout.write(`${path} matches ${sourcePath} (solc ${version})\n`);
  } else {
    process.stderr.write(`compile.mjs: ${problem}\n`);
    failed = true;
  }
}

process.exit(failed ? 1 : 0);
