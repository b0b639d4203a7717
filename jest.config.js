/** Tests run on Node 24 (the `node` devDependency) with --experimental-vm-modules,
 *  because matrix-js-sdk is ESM-only and is loaded with dynamic import(). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }] },
  // A hook that starts two Synapses and two bridges takes ~10 s on an idle 2-core machine; allow for a busy one.
  testTimeout: 60000,
  maxWorkers: 2,
  // Real Synapse for the end-to-end suites: installed (once, cached under .cache/) before any test runs.
  globalSetup: "<rootDir>/test/synapse/globalSetup.ts",
};
