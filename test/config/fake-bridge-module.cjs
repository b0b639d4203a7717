/* The fake bridge for cli.test.ts (see fake-bridge.cjs). */
/* global process, exports, setInterval, clearInterval */
"use strict";
exports.runBridge = async function runBridge(config, registration, port) {
  if (process.env.FAKE_BRIDGE_FAIL) throw new Error(process.env.FAKE_BRIDGE_FAIL);
  const keepAlive = setInterval(() => undefined, 1000);
  process.stdout.write(
    "STARTED " + JSON.stringify({ port, domain: config.homeserver.domain, as_token: registration.as_token, level: config.logging.level }) + "\n",
  );
  return {
    async stop() {
      clearInterval(keepAlive);
      process.stdout.write("STOPPED\n");
    },
  };
};
