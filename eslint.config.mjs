import js from "@eslint/js";
import globals from "globals";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * The layers of src/, lowest first (docs/architecture.md, "Layers"): a folder
 * may import its own floor and those below, never one above. config/ and
 * log.ts are leaves beside the ground floor.
 */
const FLOORS = [
  ["errors", "ids"],
  ["protocol", "model", "net", "util", "config", "log.ts"],
  ["store", "signing", "rules", "rota"],
  ["matrix", "webcall"],
  ["calls"],
  ["bot", "provisioning"],
  ["bridge.ts", "cli.ts", "index.ts"],
];
const layerZones = FLOORS.flatMap((floor, i) => floor.map((name) => ({
  target: `./src/${name}`,
  from: FLOORS.slice(i + 1).flat().map((above) => `./src/${above}`),
  message: "a lower layer imports a higher one (docs/architecture.md, \"Layers\")",
}))).filter((zone) => zone.from.length > 0);

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "stubs/", "coverage/", ".cache/", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-console": ["error"],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      // The plugin's TypeScript settings (which files it parses, with which
      // parser), but resolved by the TypeScript resolver through tsconfig.json.
      ...Object.fromEntries(Object.entries(importX.flatConfigs.typescript.settings).filter(([key]) => key !== "import-x/resolver")),
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      // No import circles, however long (type-only imports do not count: they vanish at run time).
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": ["error", { zones: layerZones }],
    },
  },
  // Small files with one purpose: no source file over 300 lines, every line
  // counted (blank lines and comments too), so `wc -l` gives the same answer.
  { files: ["src/**/*.ts"], rules: { "max-lines": ["error", { max: 300, skipBlankLines: false, skipComments: false }] } },
  // The call link page's script runs in the browser, as a plain script (no modules, no build).
  { files: ["src/webcall/callPage/assets/*.js"], languageOptions: { sourceType: "script", globals: globals.browser } },
  { files: ["test/**", "bench/**"], rules: { "no-console": "off", "@typescript-eslint/no-explicit-any": "off" } },
);
