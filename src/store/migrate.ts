import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { logger } from "../log";
import { SqlClient } from "./sql";

const log = logger("store.migrate");

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/**
 * The .sql files live in `src/store/migrations/`. Run from source (ts-jest)
 * that is next to this module; run from the build (`dist/src/store/`), tsc
 * does not copy them, so they are found in the package's `src/store/migrations`
 * (the package must ship that folder).
 */
export function migrationsDir(): string {
  const candidates = [
    path.join(__dirname, "migrations"),
    path.resolve(__dirname, "..", "..", "..", "src", "store", "migrations"),
  ];
  const found = candidates.find((dir) => existsSync(dir));
  if (found === undefined) {
    throw new Error(`SQL migrations not found; looked in ${candidates.join(", ")}`);
  }
  return found;
}

/** Reads NNN_name.sql files; versions must run 1, 2, 3, … without gaps. */
export function loadMigrations(dir: string = migrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".sql")) continue;
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`migration file name ${file} is not NNN_name.sql`);
    migrations.push({ version: Number(match[1]), name: match[2]!, sql: readFileSync(path.join(dir, file), "utf8") });
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3, …; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  applied_at  bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
)`;

/** Serialises migration across bridge instances sharing one PostgreSQL
 *  (per schema). Released at the end of the transaction. PGlite is one
 *  process with one connection and needs no lock. */
async function lockMigrations(tx: SqlClient): Promise<void> {
  if (tx.engine === "postgres") {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('matrix-appservice-webcall migrate ' || coalesce(current_schema(), '')))");
  }
}

async function readVersion(tx: SqlClient): Promise<number> {
  const rows = await tx.query<{ version: number | null }>("SELECT max(version) AS version FROM schema_version");
  return rows[0]?.version ?? 0;
}

/** The schema version recorded in the database (0 = none). */
export async function schemaVersion(db: SqlClient): Promise<number> {
  const rows = await db.query<{ exists: boolean }>("SELECT to_regclass('schema_version') IS NOT NULL AS exists");
  return rows[0]?.exists ? readVersion(db) : 0;
}

/**
 * Applies pending migrations, each with its schema_version row in one
 * transaction, so a failing migration leaves neither. Safe when several
 * instances start at once. Returns the resulting version.
 * Refuses a database whose schema is newer than this code knows.
 */
export async function migrate(db: SqlClient, migrations: readonly Migration[] = loadMigrations()): Promise<number> {
  const latest = migrations.length;
  let version = await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.exec(CREATE_VERSION_TABLE);
    return readVersion(tx);
  });
  if (version > latest) {
    throw new Error(`database schema version ${version} is newer than this bridge supports (${latest}); upgrade the bridge`);
  }
  for (const migration of migrations.slice(version)) {
    version = await db.transaction(async (tx) => {
      await lockMigrations(tx);
      const current = await readVersion(tx);
      if (current >= migration.version) return current; // another instance applied it meanwhile
      log.info("applying migration", { version: migration.version, name: migration.name });
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_version (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      return migration.version;
    });
  }
  return version;
}
