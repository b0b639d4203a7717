import { chmod, lstat, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * The embedded store's data directory holds the node's signing-key seed (in
 * the WAL and the tables), so it is its owner's alone: the directory 0700,
 * every file in it 0600, whatever the process's umask.
 */
export class DataDirError extends Error {
  readonly errcode = "WEBCALL_DATA_DIR_NOT_PRIVATE";
  constructor(message: string) {
    super(message);
    this.name = "DataDirError";
  }
}

/** Group and other permission bits. */
const SHARED_BITS = 0o077;

/**
 * Creates `dir` (0700) if missing. An existing directory that group or
 * others may enter, read or write is refused, with the fix: its files may
 * have been read already, so loosening is not quietly repaired. Inside a
 * private directory, files left with wider modes (by an older release of
 * the bridge, which let PGlite make them 0666/0644) are narrowed to their
 * owner's bits: nobody else could reach them through the directory.
 */
export async function preparePrivateDir(dir: string): Promise<void> {
  let mode: number;
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new DataDirError(`the data directory ${dir} (database.dataDir) is not a directory`);
    mode = st.mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is cut by the umask, which could also take the owner's bits.
    await chmod(dir, 0o700);
    return;
  }
  if (mode & SHARED_BITS) {
    const who = mode & 0o070 ? (mode & 0o007 ? "its group and other users" : "its group") : "other users";
    throw new DataDirError(
      `the data directory ${dir} (database.dataDir) is open to ${who} (mode ${mode.toString(8).padStart(4, "0")}), ` +
        `and it holds the node's signing key and every call: run chmod -R go-rwx ${shellQuote(dir)} and start again`,
    );
  }
  await narrowTree(dir);
}

/** Clears group and other bits on everything under `dir` (not following symlinks). */
async function narrowTree(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isSymbolicLink()) continue;
    if (st.mode & SHARED_BITS) await chmod(path, st.mode & 0o700);
    if (st.isDirectory()) await narrowTree(path);
  }
}

/** The parts of Emscripten's FS object that decide a new file's or directory's mode. */
export interface EmscriptenModeFs {
  mknod(path: string, mode: number, dev: number): unknown;
  doChmod(stream: unknown, node: unknown, mode: number, dontFollow?: boolean): unknown;
}

/**
 * Makes every mode PGlite's Emscripten file system sets owner-only. Its
 * NODEFS does not honour the umask: `open(O_CREAT)` chmods the new file to
 * the mode Postgres asked for (0666 from initdb's `--allow-group-access`
 * files), so a umask alone leaves them world-readable. Every create goes
 * through `FS.mknod` and every mode change through `FS.doChmod` (chmod,
 * fchmod, the initdb module's PROXYFS calls), looked up on the object at
 * each call, so wrapping the two covers all of them.
 */
export function makeModesPrivate(fs: EmscriptenModeFs): void {
  const mknod = fs.mknod.bind(fs);
  const doChmod = fs.doChmod.bind(fs);
  fs.mknod = (path, mode, dev) => mknod(path, mode & ~SHARED_BITS, dev);
  fs.doChmod = (stream, node, mode, dontFollow) => doChmod(stream, node, mode & ~SHARED_BITS, dontFollow);
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
