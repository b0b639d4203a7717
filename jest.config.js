/** Tests run on Node 24 (the `node` devDependency) with --experimental-vm-modules,
 *  because matrix-js-sdk is ESM-only and is loaded with dynamic import(). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }] },
  testTimeout: 30000,
  maxWorkers: 2,
  // Real Synapse for the end-to-end suites: installed (once, cached under .cache/) before any test runs.
  globalSetup: "<rootDir>/test/synapse/globalSetup.ts",
};
