import { AsyncLocalStorage } from "node:async_hooks";
import { PGlite, Transaction } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";
import { PglitePrepared } from "./pglitePrepared";
import { EmscriptenModeFs, makeModesPrivate, preparePrivateDir } from "./privateDir";
import { Engine, SqlClient } from "./sql";

export interface PgliteOptions {
  /** Directory holding the database files; created if missing (0700, files 0600). One process at a time. */
  dataDir: string;
}

/**
 * PGlite is a single connection. Its own mutex already serialises work:
 * `query`, `exec` and `transaction` all take the same lock, so a plain query
 * issued while a transaction is open waits for the transaction to finish and
 * never runs inside it. The one way to deadlock is a query on the outer
 * client from inside a transaction callback; that is detected and refused.
 */
const inTransaction = new AsyncLocalStorage<true>();

function refuseInsideTransaction(): void {
  if (inTransaction.getStore()) {
    throw new Error("PGlite: query on the outer client inside a transaction would deadlock; use the transaction's client");
  }
}

class PgliteTransaction implements SqlClient {
  readonly engine: Engine = "pglite";
  constructor(private readonly tx: Transaction) {}
  async query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]> {
    const result = await this.tx.query<T>(text, params as unknown[] | undefined);
    return result.rows;
  }
  async exec(script: string): Promise<void> {
    await this.tx.exec(script);
  }
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close() called on a transaction"));
  }
}

/** PGlite's node file system with owner-only modes (see makeModesPrivate). */
class PrivateNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS["init"]>): ReturnType<NodeFS["init"]> {
    const { emscriptenOpts } = await super.init(...args);
    // First, before the data directory is mounted and initdb runs.
    const preRun = [(mod: { FS: EmscriptenModeFs }) => makeModesPrivate(mod.FS), ...(emscriptenOpts.preRun ?? [])];
    return { emscriptenOpts: { ...emscriptenOpts, preRun } };
  }
}

export class PgliteClient implements SqlClient {
  readonly engine: Engine = "pglite";

  private readonly prepared: PglitePrepared;

  private constructor(private readonly db: PGlite) {
    this.prepared = new PglitePrepared(db);
  }

  static async create(options: PgliteOptions): Promise<PgliteClient> {
    await preparePrivateDir(options.dataDir);
    const db = await PGlite.create({ fs: new PrivateNodeFS(options.dataDir) });
    return new PgliteClient(db);
  }

  async query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]> {
    refuseInsideTransaction();
    return this.prepared.query<T>(text, params ?? []);
  }

  async exec(script: string): Promise<void> {
    refuseInsideTransaction();
    await this.db.exec(script);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    refuseInsideTransaction();
    return this.db.transaction((tx) => inTransaction.run(true, () => fn(new PgliteTransaction(tx))));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
