#!/usr/bin/env node
/* The installed command: runs the compiled CLI in dist/ (`npm run build`
 * writes it; `npm pack` and `npm publish` build it first). */
/* global require, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const { existsSync } = require("node:fs");
const Module = require("node:module");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const root = join(__dirname, "..");
const cli = join(root, "dist", "src", "cli.js");
if (!existsSync(cli)) {
  process.stderr.write(`matrix-appservice-webcall: not built yet (no ${cli}): run \`npm run build\` in ${root} first.\n`);
  process.exit(1);
}

// matrix-appservice-bridge loads matrix-bot-sdk from its index, whatever part
// of it is used (its Cli and ProvisioningApi require the index too), and
// matrix-bot-sdk requires the native crypto library at import time, for
// end-to-end encryption, which this bridge does not do. That library's
// binary is not in the npm package: its install script downloads it from
// outside the registry, and npm runs install scripts only where allowed, so
// in an installed copy of this package the require fails and the command
// dies before it starts. This project's own `overrides` (package.json) swap
// in stubs/matrix-sdk-crypto-nodejs, but npm applies overrides only to the
// root project, never to an installed dependency. So the command maps that
// one module name to the same stub itself, wherever npm put the real one:
// loading works, and any use of it throws "End-to-end encryption is not
// supported".
const CRYPTO = "@matrix-org/matrix-sdk-crypto-nodejs";
const stub = join(root, "stubs", "matrix-sdk-crypto-nodejs", "index.js");
if (typeof Module.registerHooks === "function") {
  Module.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === CRYPTO) return { url: pathToFileURL(stub).href, format: "commonjs", shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
} else {
  // Node 22 before 22.15 has no module.registerHooks: the CommonJS loader's
  // resolver (what module-alias and tsconfig-paths wrap) does the same there.
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === CRYPTO ? stub : resolve.call(this, request, ...rest);
  };
}

require(cli).main();
