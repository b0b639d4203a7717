import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import type { Registration } from "../../src/config/registration";
import { freePort, waitFor } from "./fixture";
import { defaultKind, E2EHomeserver, HomeserverKind, startHomeserver } from "./homeserver";

const root = join(__dirname, "..", "..");

/**
 * The bridge run through its real CLI as a process of its own, with the
 * registration file its CLI writes, installed on a homeserver (real Synapse
 * by default): for tests that kill it, or whose timings must not share an
 * event loop with the homeserver and the callers.
 */
export class BridgeProcess {
  child: ChildProcess | undefined;

  private constructor(readonly dir: string, readonly webcallUrl: string, readonly asPort: number, readonly hsToken: string) {}

  /**
   * The README's "Registering with Synapse", step by step: config.yaml (given
   * sections over test defaults), `-r -u URL -c config.yaml -f
   * registration.yaml` through the CLI, the file installed on a homeserver
   * through app_service_config_files as it starts, then the bridge.
   */
  static async start(serverName: string, sections: Record<string, object> = {}, kind: HomeserverKind = defaultKind()): Promise<{ bridge: BridgeProcess; hs: E2EHomeserver }> {
    const dir = mkdtempSync(join(tmpdir(), "webcall-process-"));
    const asPort = await freePort();
    // A port given in the webcall section is used (another bridge may be told it first).
    const wcPort = (sections.webcall as { port?: number } | undefined)?.port ?? await freePort();
    const writeConfig = (hsUrl: string) => writeFileSync(join(dir, "config.yaml"), yaml.dump({
      homeserver: { url: hsUrl, domain: serverName },
      database: { dataDir: join(dir, "data") },
      logging: { level: "warn" },
      ...sections,
      // Test callers are unsigned (never verified): ring them unless a test says otherwise.
      rules: { defaultAction: "ring", ...sections.rules },
      webcall: { bind: "127.0.0.1", port: wcPort, publicUrl: "http://127.0.0.1/webcall", ...sections.webcall },
    }));
    // The homeserver's URL is known once it runs; the registration does not depend on it.
    writeConfig("http://127.0.0.1:1");
    await runCli(dir, ["-r", "-u", `http://127.0.0.1:${asPort}`, "-c", join(dir, "config.yaml"), "-f", join(dir, "registration.yaml")]);
    const reg = yaml.load(readFileSync(join(dir, "registration.yaml"), "utf8")) as Registration;
    const hs = await startHomeserver({ kind, serverName, appservices: [reg as never] });
    writeConfig(hs.url);
    const bridge = new BridgeProcess(dir, `http://127.0.0.1:${wcPort}/webcall`, asPort, reg.hs_token);
    await bridge.spawn();
    return { bridge, hs };
  }

  /** Starts (or restarts) the process and waits until it listens. */
  async spawn(): Promise<void> {
    const child = spawnCli(this.dir, ["-c", join(this.dir, "config.yaml"), "-f", join(this.dir, "registration.yaml"), "-p", String(this.asPort)]);
    this.child = child;
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += String(d); });
    // A fresh data directory runs initdb first: 3 s on an idle machine, over 10 s on a busy one.
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`bridge exited: ${stderr}`);
      return fetch(`${this.webcallUrl}/sessions/none/events`).then(() => true, () => undefined);
    }, 90_000, "the bridge to listen");
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    // A child ended by a signal keeps exitCode null: it has exited all the same.
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await this.kill("SIGTERM");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The bridge's CLI (src/cli.ts, run from source) with these arguments, in `dir`. */
function spawnCli(dir: string, args: string[]): ChildProcess {
  return spawn(join(root, "node_modules", ".bin", "node"), [
    "-r", join(root, "scripts", "register-ts.cjs"),
    "-e", `require(${JSON.stringify(join(root, "src", "cli"))}).main(process.argv.slice(1))`,
    "--", ...args,
  ], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function runCli(dir: string, args: string[]): Promise<void> {
  const child = spawnCli(dir, args);
  let stderr = "";
  child.stderr!.on("data", (d) => { stderr += String(d); });
  return new Promise((resolve, reject) => child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`CLI ${args.join(" ")} exited ${code}: ${stderr}`))));
}
