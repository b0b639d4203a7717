/**
 * The command line, run as the operator would: a child process per case.
 * src/cli.ts runs through scripts/register-ts.cjs (no build needed) with its
 * `./bridge` swapped for a fake that reports what it was started with.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { freePort } from "../support/ports";

const root = join(__dirname, "..", "..");
const node = join(root, "node_modules", ".bin", "node");
const nodeArgs = [
  "-r", join(root, "scripts", "register-ts.cjs"),
  "-r", join(__dirname, "fake-bridge.cjs"),
  "-e", `require(${JSON.stringify(join(root, "src", "cli"))}).main(process.argv.slice(1))`,
  "--",
];
const dir = mkdtempSync(join(tmpdir(), "webcall-cli-"));
// Each case starts a Node process (about 1 s of CPU); leave room for a busy machine.
jest.setTimeout(60000);
const configPath = join(dir, "config.yaml");
writeFileSync(
  configPath,
  "homeserver: { url: 'http://localhost:8008', domain: example.org }\nwebcall: { publicUrl: 'https://w.example.org/webcall' }\nlogging: { level: warn }\n",
);

interface Result { code: number | null; stdout: string; stderr: string }

/** The CLI with the real bridge, not the fake. */
const realBridgeArgs = nodeArgs.filter((a, i) => a !== join(__dirname, "fake-bridge.cjs") && nodeArgs[i + 1] !== join(__dirname, "fake-bridge.cjs"));

function run(args: string[], env: NodeJS.ProcessEnv = {}, base = nodeArgs): Promise<Result> {
  return new Promise((resolve) => {
    execFile(node, [...base, ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 45000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** stderr without Node's own warnings (deprecations from dependencies). */
function ownStderr(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => l && !/^\(node:\d+\)|^\(Use `node --trace/.test(l))
    .join("\n");
}

function waitFor(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(text)) resolve(out);
    });
    child.on("exit", () => reject(new Error(`exited before printing ${text}: ${out}`)));
  });
}

describe("matrix-appservice-webcall CLI", () => {
  const registrationPath = join(dir, "registration.yaml");

  it("-r writes a registration from the config", async () => {
    const result = await run(["-r", "-u", "http://localhost:8090", "-c", "config.yaml", "-f", "registration.yaml"]);
    expect(ownStderr(result.stderr)).toBe("");
    expect(result.code).toBe(0);
    const reg = yaml.load(readFileSync(registrationPath, "utf8")) as Record<string, unknown>;
    expect(reg).toMatchObject({ id: "webcall", url: "http://localhost:8090", sender_localpart: "webcall", rate_limited: false });
    expect(reg.namespaces).toEqual({
      users: [
        { regex: "^@webcall_.*:example\\.org$", exclusive: true },
        { regex: "^@webcall:example\\.org$", exclusive: true },
      ],
    });
    expect(statSync(registrationPath).mode & 0o777).toBe(0o600);
  });

  it("runs the bridge with the config, the registration and the port, and stops it on SIGTERM", async () => {
    const reg = yaml.load(readFileSync(registrationPath, "utf8")) as Record<string, unknown>;
    const child = spawn(node, [...nodeArgs, "-c", "config.yaml", "-f", "registration.yaml", "-p", "8099"], { cwd: dir });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const out = await waitFor(child, "STARTED");
    expect(JSON.parse(out.slice(out.indexOf("{"), out.indexOf("\n", out.indexOf("STARTED"))))).toEqual({
      port: 8099,
      domain: "example.org",
      as_token: reg.as_token,
      level: "warn",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const stopped = waitFor(child, "STOPPED");
    child.kill("SIGTERM");
    await stopped;
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/error/i);
  });

  it("takes the port from the registration url when -p is not given", async () => {
    const child = spawn(node, [...nodeArgs, "-c", "config.yaml"], { cwd: dir });
    const out = await waitFor(child, "STARTED");
    expect(out).toContain('"port":8090');
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("exits 1 with the readable message, and no stack, on a bad config", async () => {
    writeFileSync(join(dir, "bad.yaml"), "homeserver: { url: 'http://localhost:8008', domain: example.org }\nwebcall: { publicUrl: 'https://w.example.org/webcall', port: abc }\n");
    const cases = [["-c", "bad.yaml"], ["-r", "-u", "http://localhost:8090", "-c", "bad.yaml"]];
    for (const result of await Promise.all(cases.map((args) => run(args)))) {
      expect(result.code).toBe(1);
      expect(ownStderr(result.stderr)).toBe('bad.yaml: webcall.port must be a whole number (got "abc")');
    }
  });

  it("exits 1 with a readable message on usage mistakes and a missing registration", async () => {
    const cases: [string[], string][] = [
      [["-c", "missing.yaml"], "missing.yaml: cannot read the config file: no such file"],
      [["-f", "registration.yaml"], "matrix-appservice-webcall: missing --config [-c] config.yaml\nRun with --help for usage."],
      [["-r", "-c", "config.yaml"], "matrix-appservice-webcall: missing --url [-u]: the URL the homeserver reaches this bridge at\nRun with --help for usage."],
      [["-c", "config.yaml", "-p", "http"], 'matrix-appservice-webcall: --port must be a port number from 1 to 65535 (got "http")\nRun with --help for usage.'],
      [["-c", "config.yaml", "-f", "nothere.yaml"], "nothere.yaml: no such file; generate the registration with -r -u URL -c CONFIG -f nothere.yaml"],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    cases.forEach(([args, message], i) => {
      const result = results[i]!;
      expect({ args, code: result.code, stderr: ownStderr(result.stderr) }).toEqual({ args, code: 1, stderr: message });
    });
  });

  it("refuses to replace an existing registration without --force, since that changes the tokens", async () => {
    const before = readFileSync(registrationPath, "utf8");
    const result = await run(["-r", "-u", "http://localhost:8090", "-c", "config.yaml", "-f", "registration.yaml"]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 1,
      stderr: "registration.yaml: already exists, and writing it again makes new tokens: the homeserver would reject the bridge " +
        "until it is restarted with the new file. To keep it, start the bridge without -r; to replace it, add --force (then restart the homeserver)\n",
    });
    expect(readFileSync(registrationPath, "utf8")).toBe(before);

    const forced = await run(["-r", "--force", "-u", "http://localhost:8090", "-c", "config.yaml", "-f", "registration.yaml"]);
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: "" });
    // What to do next, since the homeserver reads the file only when it starts.
    expect(forced.stdout).toBe(`Wrote registration.yaml (fresh as_token and hs_token, mode 0600). Next: add ${join(dir, "registration.yaml")} ` +
      "to app_service_config_files in the homeserver's homeserver.yaml, restart the homeserver, then start the bridge " +
      "with -c config.yaml -f registration.yaml.\n");
    const after = yaml.load(readFileSync(registrationPath, "utf8")) as Record<string, unknown>;
    expect(after.as_token).not.toBe((yaml.load(before) as Record<string, unknown>).as_token);
    expect(statSync(registrationPath).mode & 0o777).toBe(0o600);
  });

  it("refuses the untouched sample config, for -r and for a start, saying which keys to set", async () => {
    copyFileSync(join(root, "config.sample.yaml"), join(dir, "sample.yaml"));
    const expected = [
      "sample.yaml: webcall.publicUrl is still the sample's https://webcall.example.org/webcall: set it to the URL other WebCall nodes " +
        "and callers reach this bridge's WebCall listener at (port 9040, or a reverse proxy in front of it), such as https://webcall.your.domain/webcall",
      "sample.yaml: homeserver.domain is still the sample's example.org: set it to your homeserver's server name (the part after \":\" in @you:your.domain)",
      "sample.yaml: homeserver.url is the sample's http://localhost:8008: keep it only if your homeserver's client-server API is there",
      "sample.yaml: webcall.bind is 0.0.0.0 (every interface): keep it if callers reach webcall.port directly, or set 127.0.0.1 behind a reverse proxy on this machine",
      "sample.yaml: this is still the sample configuration: edit these keys and start again (config.sample.yaml explains every key)",
      "",
    ].join("\n");
    const results = await Promise.all([
      run(["-r", "-u", "http://localhost:8090", "-c", "sample.yaml", "-f", "sample-registration.yaml"]),
      run(["-c", "sample.yaml", "-f", "registration.yaml"]),
    ]);
    for (const result of results) {
      expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 1, stdout: "", stderr: expected });
    }
    expect(() => statSync(join(dir, "sample-registration.yaml"))).toThrow();
  });

  it("refuses a registration whose user namespace is for another domain", async () => {
    writeFileSync(join(dir, "other.yaml"), "homeserver: { url: 'http://localhost:8008', domain: other.org }\nwebcall: { publicUrl: 'https://w.other.org/webcall' }\n");
    const result = await run(["-c", "other.yaml", "-f", "registration.yaml"]);
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
      code: 1,
      stdout: "",
      stderr: "registration.yaml: the user namespace is not for this config: it claims ^@webcall_.*:example\\.org$, ^@webcall:example\\.org$, " +
        "not the bot @webcall:other.org and the virtual users @webcall_…:other.org (homeserver.domain is other.org); write one for this config " +
        "with -r --force, list it in the homeserver's app_service_config_files and restart the homeserver\n",
    });
  });

  it("refuses a data directory that others can read, and says how to fix it", async () => {
    const dataDir = join(dir, "shared-data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dir, "shared.yaml"), `homeserver: { url: 'http://127.0.0.1:1', domain: example.org }\nwebcall: { publicUrl: 'https://w.example.org/webcall', port: 0 }\ndatabase: { dataDir: ${JSON.stringify(dataDir)} }\n`);
    const result = await run(["-c", "shared.yaml", "-f", "registration.yaml", "-p", String(await freePort())], {}, realBridgeArgs);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 1,
      stderr: `the data directory ${dataDir} (database.dataDir) is open to its group and other users (mode 0755), and it holds the node's ` +
        `signing key and every call: run chmod -R go-rwx ${dataDir} and start again\n`,
    });
    expect(result.stdout).not.toContain("bridge running");
  });

  it("prints no deprecation warning (DEP0060 came from loading matrix-appservice-bridge)", async () => {
    const results = await Promise.all([
      run(["--help"], {}, realBridgeArgs),
      run(["-r", "-u", "http://localhost:8090", "-c", "config.yaml", "-f", "fresh-registration.yaml"], {}, realBridgeArgs),
    ]);
    for (const result of results) {
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    }
  });

  it("exits 1 when the bridge fails to start", async () => {
    const result = await run(["-c", "config.yaml"], { FAKE_BRIDGE_FAIL: "database unreachable" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("database unreachable");
  });

  it("prints usage for --help", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("matrix-appservice-webcall -r -u URL -c config.yaml");
  });
});
