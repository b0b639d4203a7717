import { migrate } from "./migrate";
import { PgliteClient } from "./pglite";
import { PostgresClient } from "./postgres";
import { SqlClient } from "./sql";
import { SqlStore } from "./SqlStore";
import { Store } from "./Store";

export * from "./Store";

export interface OpenStoreOptions {
  /** PostgreSQL connection string; without it the embedded PGlite is used. */
  url?: string;
  /** PGlite's data directory (created if missing); unused with `url`. */
  dataDir: string;
  /** PostgreSQL pool size; default 10. */
  maxConnections?: number;
}

/** Opens the store and brings its schema up to date before returning. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const db: SqlClient = options.url
    ? PostgresClient.create({ url: options.url, ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}) })
    : await PgliteClient.create({ dataDir: options.dataDir });
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return new SqlStore(db);
}
