import pg from "pg";
import { logger } from "../log";
import { Engine, SqlClient } from "./sql";

const log = logger("store.postgres");

export interface PostgresOptions {
  /** A libpq-style connection string (postgresql://user@host:port/db?options=…). */
  url: string;
  /** Pool size; default 10. */
  maxConnections?: number;
}

/**
 * Statements get a stable name per text, so each pooled connection parses
 * and plans a hot statement once and then only binds and executes it. Hence
 * no `SELECT *` in the store: a named statement's result columns are fixed.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  nameFor(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `webcall_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    return name;
  }
}

type Queryable = pg.Pool | pg.PoolClient;

async function runQuery<T>(on: Queryable, names: StatementNames, text: string, params: readonly unknown[] | undefined): Promise<T[]> {
  const result = await on.query({ text, values: params as unknown[] | undefined, name: names.nameFor(text) });
  return result.rows as T[];
}

/** A transaction on one checked-out client. */
class PostgresTransaction implements SqlClient {
  readonly engine: Engine = "postgres";
  constructor(private readonly client: pg.PoolClient, private readonly names: StatementNames) {}
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return runQuery<T>(this.client, this.names, text, params);
  }
  async exec(script: string): Promise<void> {
    await this.client.query(script);
  }
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close() called on a transaction"));
  }
}

export class PostgresClient implements SqlClient {
  readonly engine: Engine = "postgres";
  private readonly names = new StatementNames();

  private constructor(private readonly pool: pg.Pool) {}

  static create(options: PostgresOptions): PostgresClient {
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10 });
    // An idle client losing its connection must not crash the process; the
    // pool drops it and the next query opens a new one.
    pool.on("error", (err) => log.warn("idle PostgreSQL connection failed", { error: err.message }));
    return new PostgresClient(pool);
  }

  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return runQuery<T>(this.pool, this.names, text, params);
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        const result = await fn(new PostgresTransaction(client, this.names));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackErr) {
          // The connection is in an unknown state: have the pool discard it.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
