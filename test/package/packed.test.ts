/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ afresh
 * through `prepack`), `npm install ./file.tgz` into an empty folder that has
 * no overrides of its own, then the README's commands through npx: --help,
 * -r, and a start against real Synapse that answers Synapse's appservice
 * ping, with the provisioning API on (it is matrix-appservice-bridge's,
 * which loads matrix-bot-sdk and so the native crypto library). Before bin/
 * mapped that library to the stub, the installed command died with "Cannot
 * find module '@matrix-org/matrix-sdk-crypto-nodejs-linux-x64-gnu'".
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import yaml from "js-yaml";
import { SynapseServer } from "../synapse/server";
import { freePort } from "../support/ports";

const root = join(__dirname, "..", "..");
const command = "matrix-appservice-webcall";
// The Node that runs the tests (24, the `node` devDependency) first on PATH, so npx and the installed command use it too.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, NO_UPDATE_NOTIFIER: "1" };

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += String(d); });
    child.stderr.on("data", (d) => { stderr += String(d); });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<Run> {
  const result = await run(cmd, args, cwd);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the npm package installed into an empty folder", () => {
  let work: string;
  let app: string;
  let synapse: SynapseServer | undefined;
  let bridge: ChildProcess | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "webcall-package-"));
    app = join(work, "app");
    await ok("npm", ["pack", "--pack-destination", work, "--silent"], root);
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack wrote no tarball in ${work}`);
    // A project of its own, with no overrides: npm must not walk up to another package.json.
    await ok("mkdir", [app], work);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "webcall-install-check", version: "1.0.0", private: true }));
    await ok("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball)], app);
  }, 300_000);

  afterAll(async () => {
    if (bridge && bridge.exitCode === null && bridge.signalCode === null) {
      await new Promise((resolve) => { bridge!.once("exit", resolve); bridge!.kill("SIGKILL"); });
    }
    await synapse?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("has the real crypto package installed, not the stub (the overrides are not in play)", () => {
    const crypto = JSON.parse(readFileSync(join(app, "node_modules", "@matrix-org", "matrix-sdk-crypto-nodejs", "package.json"), "utf8"));
    expect(crypto.version).not.toMatch(/webcall/);
  });

  it("ships what it runs on and no sources", () => {
    const pkg = join(app, "node_modules", command);
    for (const f of ["dist/src/cli.js", "src/store/migrations/001_initial.sql", "stubs/matrix-sdk-crypto-nodejs/index.js", "config.sample.yaml", "bin/matrix-appservice-webcall.js",
      "src/webcall/callPage/assets/page.html", "src/webcall/callPage/assets/call.js", "src/webcall/callPage/assets/call.css"]) {
      expect(statSync(join(pkg, f)).isFile()).toBe(true);
    }
    expect(() => statSync(join(pkg, "src", "cli.ts"))).toThrow();
    expect(() => statSync(join(pkg, "test"))).toThrow();
    expect(() => statSync(join(pkg, "docs", "call-page"))).toThrow(); // the README's screenshots stay in the repository
  });

  it("prints its usage for --help", async () => {
    const { stdout, stderr } = await ok("npx", [command, "--help"], app);
    expect(stdout).toMatch(/^Usage:\n {2}matrix-appservice-webcall -r -u URL/);
    expect(stderr).not.toMatch(/Error|Cannot find module/);
  });

  it("writes a registration with -r and runs against real Synapse, which reaches it (appservice ping)", async () => {
    const asPort = await freePort();
    const wcPort = await freePort();
    const provisioningPort = await freePort();
    const writeConfig = (hsUrl: string) => writeFileSync(join(app, "config.yaml"), yaml.dump({
      homeserver: { url: hsUrl, domain: "example.org" },
      appservice: { bind: "127.0.0.1" },
      webcall: { bind: "127.0.0.1", port: wcPort, publicUrl: "http://127.0.0.1/webcall" },
      provisioning: { enabled: true, bind: "127.0.0.1", port: provisioningPort },
      database: { dataDir: join(app, "data") },
      logging: { level: "info" },
    }));
    writeConfig("http://127.0.0.1:1");
    await ok("npx", [command, "-r", "-u", `http://127.0.0.1:${asPort}`, "-c", "config.yaml", "-f", "registration.yaml"], app);
    const reg = yaml.load(readFileSync(join(app, "registration.yaml"), "utf8")) as { id: string; url: string; as_token: string; hs_token: string; sender_localpart: string; namespaces: { users: unknown[] } };
    expect(reg).toMatchObject({ url: `http://127.0.0.1:${asPort}`, sender_localpart: "webcall", as_token: expect.any(String), hs_token: expect.any(String) });

    synapse = await SynapseServer.start({ serverName: "example.org", appservices: [reg as never] });
    writeConfig(synapse.url);
    // The command npx runs, started directly: npx does not pass SIGTERM on
    // (it dies and leaves the bridge running), and a service manager signals
    // the process it started. In a terminal, Ctrl-C reaches both.
    const bin = join(app, "node_modules", ".bin", command);
    const child = spawn(bin, ["-c", "config.yaml", "-f", "registration.yaml", "-p", String(asPort)], { cwd: app, env, stdio: ["ignore", "ignore", "pipe"] });
    bridge = child;
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr += String(d); });
    const health = await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`the installed bridge exited ${child.exitCode}: ${stderr}`);
      const body = await fetch(`http://127.0.0.1:${asPort}/health`).then((r) => r.json(), () => undefined) as { homeserver: { ping: string } } | undefined;
      return body && body.homeserver.ping !== "pending" ? body : undefined;
    }, 60_000, "the installed bridge's ping of Synapse");
    expect(health.homeserver).toMatchObject({ ping: "ok", rttMs: expect.any(Number) });
    expect(stderr).toContain("the homeserver reached the bridge (appservice ping)");
    const provisioning = await fetch(`http://127.0.0.1:${provisioningPort}/_matrix/provision/v1/rules`);
    expect(provisioning.status).toBe(401);
    expect(await provisioning.json()).toMatchObject({ errcode: "M_AS_BAD_TOKEN" });
    // The call link page, served from the package's own copy of its files.
    const page = await fetch(`http://127.0.0.1:${wcPort}/call/alice`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<script src="assets/call.js" defer></script>');
    expect((await fetch(`http://127.0.0.1:${wcPort}/call/assets/call.js`)).status).toBe(200);

    // SIGTERM stops it cleanly.
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 120_000);
});
