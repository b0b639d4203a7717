/** The two SQL engines the store runs on; the same SQL serves both. */
export type Engine = "postgres" | "pglite";

/**
 * The little the store needs from a database: parameterised queries, scripts,
 * and transactions. Implemented by `postgres.ts` (a `pg.Pool`) and
 * `pglite.ts` (embedded PGlite).
 */
export interface SqlClient {
  readonly engine: Engine;
  /** One parameterised statement ($1, $2, …); resolves to its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: committed if `fn` resolves, rolled back if it
   * throws. Inside `fn`, use only `tx`: on PGlite (one connection) a query on
   * the outer client would wait for the transaction and so never run.
   * Calling `transaction` on `tx` runs `fn` in the same transaction.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
