import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
  // Small files with one purpose: no source file over 300 lines, every line
  // counted (blank lines and comments too), so `wc -l` gives the same answer.
  { files: ["src/**/*.ts"], rules: { "max-lines": ["error", { max: 300, skipBlankLines: false, skipComments: false }] } },
  { files: ["test/**", "bench/**"], rules: { "no-console": "off", "@typescript-eslint/no-explicit-any": "off" } },
);
