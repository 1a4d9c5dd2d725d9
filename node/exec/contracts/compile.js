// Compile Bank.sol with the npm `solc` package (standard JSON) into Bank.json.
// Usage: node compile.js <path to solc module dir> (called by build.sh).
const fs = require('fs');
const path = require('path');
const solc = require(process.argv[2] || 'solc');
const dir = __dirname;
const source = fs.readFileSync(path.join(dir, 'Bank.sol'), 'utf8');
const input = {
  language: 'Solidity',
  sources: { 'Bank.sol': { content: source } },
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers', 'storageLayout'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
for (const e of out.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);
const c = out.contracts['Bank.sol'].Bank;
const artifact = {
  contractName: 'Bank',
  compiler: { name: 'solc', version: solc.version(), evmVersion: 'cancun', optimizer: { enabled: true, runs: 200 } },
  abi: c.abi,
  bytecode: '0x' + c.evm.bytecode.object,
  deployedBytecode: '0x' + c.evm.deployedBytecode.object,
  methodIdentifiers: c.evm.methodIdentifiers,
  storageLayout: c.storageLayout.storage.map((s) => ({ label: s.label, slot: s.slot, offset: s.offset, type: s.type })),
};
fs.writeFileSync(path.join(dir, 'Bank.json'), JSON.stringify(artifact, null, 2) + '\n');
console.log('wrote Bank.json with solc ' + solc.version());
