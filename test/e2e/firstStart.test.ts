/**
 * A first start, as an operator sees it: the real CLI (from source) in a
 * process of its own, its log read from stderr. The bridge says it is
 * running only once the homeserver (real Synapse) has answered its ping;
 * while the homeserver cannot be reached it says so, names the key to check
 * and retries. With every listener on, including the provisioning API (the
 * one part that loads matrix-appservice-bridge), nothing prints DEP0060.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import type { Registration } from "../../src/config/registration";
import { freePort, waitFor } from "./fixture";
import { defaultKind, E2EHomeserver, startHomeserver } from "./homeserver";

jest.setTimeout(60_000);
const root = join(__dirname, "..", "..");
const cliArgs = ["-r", join(root, "scripts", "register-ts.cjs"), "-e", `require(${JSON.stringify(join(root, "src", "cli"))}).main(process.argv.slice(1))`, "--"];
const node = join(root, "node_modules", ".bin", "node");

describe("the first start", () => {
  const dir = mkdtempSync(join(tmpdir(), "webcall-first-start-"));
  let hs: E2EHomeserver;
  let asPort: number;
  /** Where the bridge is told the homeserver is: nothing listens there until a test forwards it to Synapse. */
  let hsPort: number;
  let child: ChildProcess | undefined;
  let proxy: Server | undefined;
  let log = "";
  /** The JSON log lines' messages (Node's own warnings are not JSON). */
  const messages = (): string[] => log.split("\n").filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { message: string }).message);

  const writeConfig = async (): Promise<void> => writeFileSync(join(dir, "config.yaml"), yaml.dump({
    homeserver: { url: `http://127.0.0.1:${hsPort}`, domain: "example.org" },
    database: { dataDir: join(dir, "data") },
    logging: { level: "info" },
    webcall: { bind: "127.0.0.1", port: await freePort(), publicUrl: "http://127.0.0.1/webcall" },
    provisioning: { enabled: true, port: await freePort() },
  }));

  beforeAll(async () => {
    asPort = await freePort();
    hsPort = await freePort();
    await writeConfig();
    await new Promise<void>((resolve, reject) => execFile(node, [...cliArgs, "-r", "-u", `http://127.0.0.1:${asPort}`, "-c", "config.yaml", "-f", "registration.yaml"],
      { cwd: dir }, (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    const reg = yaml.load(readFileSync(join(dir, "registration.yaml"), "utf8")) as Registration;
    hs = await startHomeserver({ kind: defaultKind(), serverName: "example.org", appservices: [reg as never] });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    proxy?.close();
    await hs?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("says the homeserver is not reachable, names the key, retries, and does not claim to be running", async () => {
    child = spawn(node, [...cliArgs, "-c", "config.yaml", "-f", "registration.yaml", "-p", String(asPort)], { cwd: dir, stdio: ["ignore", "inherit", "pipe"] });
    child.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
    await waitFor(() => (log.match(/not reachable/g) ?? []).length >= 2 || undefined, 30_000, "two failed pings");
    expect(messages()).toEqual(expect.arrayContaining([
      `listening; waiting for the homeserver at http://127.0.0.1:${hsPort}`,
      expect.stringMatching(new RegExp(`^homeserver at http://127\\.0\\.0\\.1:${hsPort} not reachable \\(connect ECONNREFUSED [^)]*\\): check homeserver\\.url in config\\.yaml; retrying in 1 s$`)),
      expect.stringMatching(/not reachable .*; retrying in 2 s$/),
    ]));
    expect(log).not.toContain("bridge running");
    expect(log).not.toContain("DEP0060");
    expect(child.exitCode).toBeNull();
  });

  it("says it is running once the homeserver answers", async () => {
    // The homeserver comes up at the configured URL: forward it to Synapse.
    const target = new URL(hs.url);
    proxy = createServer((socket) => {
      const upstream = createConnection(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(hsPort, "127.0.0.1", resolve));
    await waitFor(() => log.includes("bridge running") || undefined, 20_000, "bridge running");
    const said = messages();
    const reached = said.indexOf("the homeserver reached the bridge (appservice ping)");
    expect(reached).toBeGreaterThan(said.findIndex((m) => m.startsWith("listening; waiting for the homeserver")));
    expect(said.indexOf("bridge running")).toBeGreaterThan(reached);
    expect(log).not.toContain("DEP0060");
    expect(log).not.toMatch(/Warning/);
  });
});
