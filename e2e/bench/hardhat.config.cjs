// Minimal Hardhat 2 config for `npx hardhat node` in the bench (cargo xtask bench, section c):
// no Solidity compiles, no network access; the default 20 accounts of `test test … junk`.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
    },
  },
};
