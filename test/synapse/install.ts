/**
 * Installs the pinned Synapse (requirements.txt beside this file) into a
 * virtualenv cached under the project, `.cache/synapse/<hash>`, and returns
 * its python. A changed pin gets a new folder; an interrupted install is
 * redone, because the folder is only marked complete at the end.
 *
 * WEBCALL_TEST_SYNAPSE_PYTHON names the python of an existing Synapse install
 * to use instead (tests still start their own servers from it).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.join(__dirname, "..", "..");
const requirements = path.join(__dirname, "requirements.txt");

export class SynapseInstallError extends Error {}

function run(cmd: string, args: string[], what: string): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new SynapseInstallError(`${what} failed: ${(err.stderr ?? err.message).trim().split("\n").slice(-5).join("\n")}`);
  }
}

/** python3 ≥ 3.10 with the venv module, or an error naming what to install. */
function systemPython(): string {
  const python = process.env.PYTHON ?? "python3";
  let version: string;
  try {
    version = execFileSync(python, ["-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    throw new SynapseInstallError(
      `The end-to-end tests run real Synapse, which needs ${python} (3.10 or newer) with the venv module. ` +
      "Install it (Debian/Ubuntu: apt-get install python3 python3-venv), or set WEBCALL_TEST_SYNAPSE_PYTHON to the python of an existing Synapse install.");
  }
  const [major, minor] = version.split(".").map(Number) as [number, number];
  if (major < 3 || (major === 3 && minor < 10)) {
    throw new SynapseInstallError(`The end-to-end tests run real Synapse, which needs Python 3.10 or newer; ${python} is ${version}.`);
  }
  return python;
}

export function synapsePython(): string {
  const existing = process.env.WEBCALL_TEST_SYNAPSE_PYTHON;
  if (existing) {
    run(existing, ["-c", "import synapse"], `importing synapse with WEBCALL_TEST_SYNAPSE_PYTHON=${existing}`);
    return existing;
  }
  const pins = readFileSync(requirements, "utf8");
  const hash = createHash("sha256").update(pins).digest("hex").slice(0, 12);
  const venv = path.join(root, ".cache", "synapse", hash);
  const python = path.join(venv, "bin", "python");
  const done = path.join(venv, "installed");
  if (existsSync(done)) return python;
  const base = systemPython();
  rmSync(venv, { recursive: true, force: true });
  process.stderr.write(`Installing Synapse (${requirements}) into ${venv} …\n`);
  run(base, ["-m", "venv", venv], "creating the Synapse virtualenv");
  run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], "pip install matrix-synapse");
  run(python, ["-c", "import synapse"], "importing the installed synapse");
  writeFileSync(done, pins);
  return python;
}
