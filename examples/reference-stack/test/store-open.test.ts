/** openStore (src/store/open.ts): the store a `--store URL` names. */
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/store/memory.js";
import { openStore, redactUrl, storeKind } from "../src/store/open.js";
import { PostgresStore } from "../src/store/postgres/store.js";
import { describePostgres, dropSchema, freshSchema, sql } from "./support/postgres.js";

describe("openStore", () => {
  it("nothing, an empty string or memory: a MemoryStore", async () => {
    for (const url of [undefined, "", "memory"]) {
      const store = await openStore(url, { memory: { maxFinishedRuns: 5 } });
      expect(store).toBeInstanceOf(MemoryStore);
      await store.close();
    }
  });

  it("anything else: a clear error that does not repeat a password", async () => {
    await expect(openStore("mysql://me:hunter2@db/x")).rejects.toThrow(
      'unknown store mysql://me:***@db/x: use "memory" or postgres://user:password@host:port/database[?schema=name]',
    );
    await expect(openStore("postgres-ish:me:hunter2")).rejects.toThrow(
      /^unknown store postgres-ish:\.\.\.: /,
    );
    const error = (await openStore("db.example:me:hunter2").catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain("hunter2");
    await expect(openStore("/var/lib/arp")).rejects.toThrow(/^unknown store \(not a URL\): use "memory"/);
  });

  it("storeKind and redactUrl", () => {
    expect([
      storeKind(undefined),
      storeKind("memory"),
      storeKind("POSTGRESQL://h/db"),
      storeKind("x"),
    ]).toEqual(["memory", "memory", "postgres", undefined]);
    expect(redactUrl("postgres://u:p@h:5432/db?schema=s")).toBe("postgres://u:***@h:5432/db?schema=s");
    expect(redactUrl("postgres://u@h/db")).toBe("postgres://u@h/db");
  });
});

describePostgres("openStore on PostgreSQL", (url) => {
  it("postgres:// and postgresql:// open a migrated PostgresStore on the URL's ?schema=", async () => {
    const schema = freshSchema();
    try {
      const withSchema = new URL(url);
      withSchema.searchParams.set("schema", schema);
      const store = await openStore(withSchema.toString(), { postgres: { maxConnections: 2 } });
      expect(store).toBeInstanceOf(PostgresStore);
      expect((store as PostgresStore).schema).toBe(schema);
      await store.close();
      const tables = await sql<{ table_name: string }>(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toContain("arp_runs");
      const again = await openStore(withSchema.toString().replace(/^postgres(ql)?:/, "postgresql:"));
      expect(again).toBeInstanceOf(PostgresStore);
      await again.close();
    } finally {
      await dropSchema(url, schema);
    }
  });
});
