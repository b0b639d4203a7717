"use strict";
// matrix-bot-sdk requires this module at import time but only uses it for
// end-to-end encryption, which this bridge refuses (like the irc, slack and
// discord bridges). Loading works; touching anything throws a clear error.
const message = "End-to-end encryption is not supported by matrix-appservice-webcall.";
module.exports = new Proxy({}, {
  get(_target, key) {
    if (key === "__esModule" || typeof key === "symbol" || key === "then") return undefined;
    throw new Error(`${message} (tried to use ${String(key)})`);
  },
});
