/**
 * A coordinator's store from a URL, as the command lines take it (`--store URL`, else the
 * `ARP_STORE_URL` variable): nothing, `""` or `memory` is a {@link MemoryStore} (one process);
 * `postgres://` or `postgresql://user:password@host:port/database[?schema=name]` is a
 * {@link PostgresStore}, connected and migrated before the promise resolves (see
 * `PostgresStore.open`). Anything else is refused with an error that says what is accepted; a
 * password in the URL is never repeated in an error.
 */
import type { Store } from "./interface.js";
import { MemoryStore, type MemoryStoreOptions } from "./memory.js";
import { PostgresStore, type PostgresStoreOptions } from "./postgres/store.js";

/** The variable that gives `--store` its default. */
export const STORE_URL_VARIABLE = "ARP_STORE_URL";

export interface OpenStoreOptions {
  /** For `memory`. */
  memory?: MemoryStoreOptions;
  /** For `postgres://`: pool size, timeouts, ...; `schema` overrides the URL's `?schema=`. */
  postgres?: Omit<PostgresStoreOptions, "connectionString">;
}

/** What kind of store `url` names, without opening it (`undefined`: not one we know). */
export function storeKind(url: string | undefined): "memory" | "postgres" | undefined {
  if (url === undefined || url === "" || url === "memory") return "memory";
  if (/^postgres(?:ql)?:\/\//i.test(url)) return "postgres";
  return undefined;
}

/**
 * `url` for a message: its password replaced by `***`; only its scheme when it has no `//host`
 * part (`x:user:secret` could be anything) or does not parse; `(not a URL)` without a scheme.
 */
export function redactUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (scheme === null) return "(not a URL)";
  try {
    if (!url.slice(scheme[0].length).startsWith("//")) throw new Error("no authority");
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return `${scheme[1]}:...`;
  }
}

/** Opens the store `url` names; see the module's comment. The caller closes it. */
export async function openStore(url: string | undefined, options: OpenStoreOptions = {}): Promise<Store> {
  switch (storeKind(url)) {
    case "memory":
      return new MemoryStore(options.memory);
    case "postgres":
      return PostgresStore.open({ ...options.postgres, connectionString: url! });
    default:
      throw new RangeError(
        `unknown store ${redactUrl(url!)}: use "memory" or postgres://user:password@host:port/database[?schema=name]`,
      );
  }
}
