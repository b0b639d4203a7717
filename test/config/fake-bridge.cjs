/* Test preload for the CLI: makes src/cli.ts's `import "./bridge"` load a
 * fake runBridge (whether or not src/bridge.ts exists) that reports what it
 * was given on stdout and how it was stopped. */
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const Module = require("node:module");
const path = require("node:path");

const fake = path.join(__dirname, "fake-bridge-module.cjs");
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === "./bridge" && parent && parent.filename && path.basename(parent.filename).startsWith("cli.")) return fake;
  return originalResolve.call(this, request, parent, ...rest);
};
