import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OpenStoreOptions } from "../../src/store";
import { PgliteClient } from "../../src/store/pglite";
import { PostgresClient } from "../../src/store/postgres";
import { Engine, SqlClient } from "../../src/store/sql";

/** One isolated database: a PGlite data directory, or a PostgreSQL schema. */
export interface TestDatabase {
  options: OpenStoreOptions;
  /** A bare SqlClient on this database; the caller closes it. On PGlite,
   *  only one client (or store) may have the directory open at a time. */
  raw(): Promise<SqlClient>;
  drop(): Promise<void>;
}

export interface TestEngine {
  name: Engine;
  /** Whether two clients/stores may use one database at once (two bridge instances). */
  concurrentInstances: boolean;
  create(): Promise<TestDatabase>;
  dispose(): Promise<void>;
}

export const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export function pgliteEngine(): TestEngine {
  const dirs: string[] = [];
  return {
    name: "pglite",
    concurrentInstances: false,
    async create() {
      const dir = await mkdtemp(path.join(os.tmpdir(), "webcall-store-"));
      dirs.push(dir);
      const dataDir = path.join(dir, "db"); // not yet existing: openStore must create it
      return {
        options: { dataDir },
        raw: () => PgliteClient.create({ dataDir }),
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
    async dispose() {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

/** Each database is a fresh schema (search_path set through the connection
 *  string's `options`), dropped afterwards, so runs never collide. Fails
 *  loudly when PostgreSQL cannot be reached. */
export function postgresEngine(): TestEngine {
  let admin: PostgresClient | undefined;
  const schemas: string[] = [];
  const drop = async (schema: string) => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  return {
    name: "postgres",
    concurrentInstances: true,
    async create() {
      admin ??= PostgresClient.create({ url: PG_URL, maxConnections: 2 });
      const schema = `webcall_test_${randomBytes(6).toString("hex")}`;
      try {
        await admin.query(`CREATE SCHEMA ${schema}`);
      } catch (err) {
        throw new Error(`PostgreSQL at ${PG_URL} is required for these tests (set WEBCALL_TEST_PG_URL): ${String(err)}`);
      }
      schemas.push(schema);
      const url = new URL(PG_URL);
      url.searchParams.set("options", `-c search_path=${schema}`);
      const options: OpenStoreOptions = { url: url.toString(), dataDir: "/nonexistent-unused", maxConnections: 10 };
      return {
        options,
        raw: async () => PostgresClient.create({ url: url.toString(), maxConnections: 4 }),
        drop: () => drop(schema),
      };
    },
    async dispose() {
      for (const schema of schemas) await drop(schema);
      await admin?.close();
    },
  };
}
