/**
 * The embedded store's files are its owner's alone (they hold the signing
 * key's seed), whatever the umask: PGlite's Emscripten file system chmods
 * what it creates to the modes Postgres asks for, and ignores the umask.
 */
import { execFile } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store";
import { DataDirError } from "../../src/store/privateDir";

jest.setTimeout(60_000);
const root = join(__dirname, "..", "..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "webcall-private-"));
  dirs.push(dir);
  return dir;
}

/** Every path under `dir` (itself included) whose mode lets group or others in. */
function shared(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.mode & 0o077) found.push(`${path.slice(dir.length) || "."} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

/** Opens a store at `dataDir` in a child process with `umask`, migrates it (new tables: new relation files and WAL) and closes it. */
function openInChild(dataDir: string, umask: number): Promise<void> {
  const script = `
    process.umask(${umask});
    const { openStore } = require(${JSON.stringify(join(root, "src", "store"))});
    (async () => {
      const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
      await store.close();
    })().catch((err) => { console.error(err); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    execFile(join(root, "node_modules", ".bin", "node"), ["-r", join(root, "scripts", "register-ts.cjs"), "-e", script], { timeout: 50_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()));
  });
}

describe("the PGlite data directory", () => {
  it.each([["0022", 0o022], ["0000", 0o000]])("is created 0700 with every file 0600 under umask %s, and stays so when reopened", async (_name, umask) => {
    const dataDir = join(tempDir(), "data", "db"); // parents missing too
    await openInChild(dataDir, umask);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dataDir).length).toBeGreaterThan(5);
    expect(shared(dataDir)).toEqual([]);
    await openInChild(dataDir, umask);
    expect(shared(dataDir)).toEqual([]);
  });

  it("is refused when group or others can read it, with the fix", async () => {
    const dataDir = join(tempDir(), "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const opening = openStore({ dataDir });
    await expect(opening).rejects.toBeInstanceOf(DataDirError);
    await expect(opening).rejects.toThrow(
      `the data directory ${dataDir} (database.dataDir) is open to its group and other users (mode 0755), ` +
        `and it holds the node's signing key and every call: run chmod -R go-rwx ${dataDir} and start again`,
    );
    chmodSync(dataDir, 0o730);
    await expect(openStore({ dataDir })).rejects.toThrow("is open to its group (mode 0730)");
    expect(readdirSync(dataDir)).toEqual([]); // nothing was created in it
  });

  it("narrows files an older release left readable inside a private directory", async () => {
    const dataDir = join(tempDir(), "data");
    await openInChild(dataDir, 0o022);
    const pgVersion = join(dataDir, "PG_VERSION");
    chmodSync(pgVersion, 0o666);
    chmodSync(join(dataDir, "base"), 0o755);
    writeFileSync(join(dataDir, "extra"), "", { mode: 0o644 });
    const store = await openStore({ dataDir });
    await store.close();
    expect(shared(dataDir)).toEqual([]);
    expect(statSync(pgVersion).mode & 0o777).toBe(0o600);
  });
});
