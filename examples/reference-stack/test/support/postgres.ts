/**
 * The tests' PostgreSQL: `ARP_TEST_DATABASE_URL` (`.ci/run` starts a throwaway server and sets it;
 * locally: `source .ci/postgres` in the shell that runs the tests). Without it the PostgreSQL tests
 * skip with a message, except under `CI=true`, where they fail: CI must not pass by skipping them.
 * Each test works in a schema of its own, dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/store.js";

export const DATABASE_URL = process.env.ARP_TEST_DATABASE_URL || undefined;
const MISSING =
  "no PostgreSQL for these tests: set ARP_TEST_DATABASE_URL (`source .ci/postgres` starts a throwaway one)";

/** `describe` when there is a database; else a skipped suite that says why (a failing one under CI=true). */
export function describePostgres(name: string, body: (url: string) => void): void {
  if (DATABASE_URL !== undefined) {
    describe(name, () => body(DATABASE_URL));
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      it("has a database", () => {
        throw new Error(`${MISSING} (CI=true: these tests may not be skipped)`);
      });
    });
    return;
  }
  console.warn(`${name}: skipped, ${MISSING}`);
  describe.skip(name, () => body(""));
}

/** `url` with `?schema=` set: the store URL of a stack on that schema. */
export function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}

/** A schema name no other test uses. */
export function freshSchema(): string {
  return `t_${randomBytes(6).toString("hex")}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A store on a fresh schema, and how to close it and drop the schema. */
export async function openTestStore(
  url: string,
  options: Partial<PostgresStoreOptions> = {},
): Promise<{ store: PostgresStore; schema: string; close: () => Promise<void> }> {
  const schema = options.schema ?? freshSchema();
  const store = await PostgresStore.open({ connectionString: url, schema, maxConnections: 4, ...options });
  return {
    store,
    schema,
    close: async () => {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

/** One query on a plain connection (for checks made in the tables themselves). */
export async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
