/**
 * The store's schema, as versioned SQL files (`migrations/NNNN_name.sql`), applied at start-up.
 * Every start runs {@link migrate}: it applies, in one transaction, the files a schema has not had
 * yet and records them in `arp_migrations`. Two replicas starting at once take turns on an advisory
 * lock, so the second finds the work done; a database already at the newest version is left as it is.
 */
import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
/** The advisory lock's first key ("ARP" in ASCII); the second is the schema's hash. */
const LOCK_CLASS = 0x415250;

/** The migrations shipped with the stack, oldest first. */
export function migrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), "utf8"),
    }));
}

/** A schema name the store accepts: a plain lower-case SQL identifier, so it never needs quoting rules. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Brings `schema` up to the newest migration; answers the versions it applied (none when up to date). */
export async function migrate(client: pg.ClientBase, schema: string, all = migrations()): Promise<number[]> {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`not a schema name the store accepts: ${schema}`);
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_CLASS, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path = ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS arp_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ version: number }>("SELECT version FROM arp_migrations")).rows.map(
        (r) => r.version,
      ),
    );
    for (const migration of all) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO arp_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  return applied;
}
