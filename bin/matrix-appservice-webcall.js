#!/usr/bin/env node
/* The installed command: runs the compiled CLI (npm run build writes dist/). */
/* global require */
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("../dist/src/cli.js").main();
