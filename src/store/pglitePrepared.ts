import { PGlite, parse, protocol } from "@electric-sql/pglite";
import { LruCache } from "../util/LruCache";

/** Enough for every statement the store builds (they are a fixed set, and
 *  the patch-shaped ones one per set of columns); beyond it the least used
 *  are closed. */
const MAX_STATEMENTS = 256;

interface Prepared {
  name: string;
  /** The parameters' type OIDs, as the server inferred them: they choose
   *  each value's serializer, as PGlite's own query() does. */
  paramTypes: number[];
}

interface BackendMessage {
  name: string;
}

/**
 * Named prepared statements for PGlite. `PGlite.query` parses, describes and
 * plans its text on every call, in five calls into the WebAssembly backend
 * and a sync; the store runs the same few statements on every call setup.
 * Here a statement is parsed and described once, and each run is one call
 * into the backend with Bind, Describe, Execute and Sync together: the
 * setup's insert costs about 0.5 ms instead of 0.9 (docs/performance.md).
 * Results are parsed by PGlite's own parser, with its type parsers.
 *
 * Runs only outside transactions, under both of PGlite's locks, as
 * `PGlite.query` does: the transaction lock too, so a statement issued while
 * another caller's transaction is open waits for it instead of running
 * inside it.
 */
export class PglitePrepared {
  private readonly statements = new LruCache<string, Prepared>(MAX_STATEMENTS);
  private next = 0;

  constructor(private readonly db: PGlite) {}

  query<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return this.db._runExclusiveTransaction(() => this.db.runExclusive(async () => {
      const statement = this.statements.get(text) ?? await this.prepare(text);
      const values = params.map((value, i) => this.serialize(value, statement.paramTypes[i]!));
      const messages = await this.run(concat([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.describe({ type: "P" }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]));
      await this.db.syncToFs();
      return parse.parseResults(messages as Parameters<typeof parse.parseResults>[0], this.db.parsers)[0]!.rows as T[];
    }));
  }

  private async prepare(text: string): Promise<Prepared> {
    const name = `webcall_${++this.next}`;
    const messages = await this.run(concat([
      protocol.serialize.parse({ name, text }),
      protocol.serialize.describe({ type: "S", name }),
      protocol.serialize.sync(),
    ]));
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages as Parameters<typeof parse.parseDescribeStatementResults>[0]) };
    const evicted = this.statements.set(text, statement);
    if (evicted) await this.run(concat([protocol.serialize.close({ type: "S", name: evicted.name }), protocol.serialize.sync()]));
    return statement;
  }

  /** One call into the backend; an error response is thrown as PGlite's
   *  DatabaseError (after Sync the backend is ready for the next call). */
  private async run(message: Uint8Array): Promise<BackendMessage[]> {
    const { messages } = await this.db.execProtocol(message, { syncToFs: false, throwOnError: false });
    const error = messages.find((m) => m.name === "error");
    if (error) throw error;
    return messages;
  }

  private serialize(value: unknown, type: number): string | null {
    if (value === null || value === undefined) return null;
    const serializer = this.db.serializers[type];
    return serializer ? serializer(value) : String(value);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
