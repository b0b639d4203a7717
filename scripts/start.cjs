/* `npm start`: runs the bridge from config.yaml. Without one, it copies the
 * sample, which the CLI then refuses naming each key to set. The first time
 * it has a config, it only writes registration.yaml and says what to do with it (add it to Synapse's
 * app_service_config_files, restart Synapse, npm start again). Environment:
 * WEBCALL_CONFIG, WEBCALL_REGISTRATION, WEBCALL_AS_URL (how the homeserver
 * reaches the appservice port, default http://localhost:8090). */
/* global require, process, __dirname, URL */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const { copyFileSync, existsSync } = require("node:fs");
const { join } = require("node:path");
const { spawnSync } = require("node:child_process");

const root = join(__dirname, "..");
const config = process.env.WEBCALL_CONFIG ?? "config.yaml";
const registration = process.env.WEBCALL_REGISTRATION ?? "registration.yaml";
const asUrl = new URL(process.env.WEBCALL_AS_URL ?? "http://localhost:8090");
const cli = join(root, "bin", "matrix-appservice-webcall.js");

if (!existsSync(config)) {
  // COPYFILE_EXCL: never over a config someone wrote meanwhile.
  copyFileSync(join(root, "config.sample.yaml"), config, require("node:fs").constants.COPYFILE_EXCL);
  process.stderr.write(`Wrote ${config} from config.sample.yaml.\n`);
}
if (!existsSync(registration)) {
  // Only when there is none: -r on an existing file would replace its tokens (the CLI refuses without --force).
  const made = spawnSync(process.execPath, [cli, "-r", "-u", asUrl.href.replace(/\/$/, ""), "-c", config, "-f", registration], { stdio: "inherit" });
  if (made.status !== 0) process.exit(made.status ?? 1);
  // Synapse reads registrations only when it starts: a bridge started now would be refused.
  process.stderr.write("Then run npm start again.\n");
  process.exit(0);
}
const run = spawnSync(process.execPath, [cli, "-c", config, "-f", registration, "-p", asUrl.port || "8090"], { stdio: "inherit" });
process.exit(run.status ?? 1);
