/* Lets `node -r ./scripts/register-ts.cjs some-script.ts` run the project's
 * TypeScript directly (dev tools only): each .ts file is transpiled to
 * CommonJS on require, exactly as tsc would emit it, without type checking.
 * Node's own type stripping cannot do this here: the sources use
 * extensionless relative imports, which its ES module loader will not resolve. */
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

const { config } = ts.readConfigFile(path.join(__dirname, "..", "tsconfig.json"), ts.sys.readFile);
const compilerOptions = {
  ...ts.convertCompilerOptionsFromJson(config.compilerOptions, path.join(__dirname, "..")).options,
  module: ts.ModuleKind.CommonJS,
  sourceMap: false,
  inlineSourceMap: true,
};

require.extensions[".ts"] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const { outputText } = ts.transpileModule(source, { fileName: filename, compilerOptions });
  module._compile(outputText, filename);
};
