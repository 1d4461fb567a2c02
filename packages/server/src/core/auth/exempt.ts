/**
 * Which requests are served without authentication. By default the operation table says it: an
 * operation whose spec security is empty (`security: []`, `auth: "none"` in `@arp/model`'s tables:
 * `health` and `version`) is open, every other needs a bearer token. An explicit path list (the
 * `exemptPaths` option, or `ARP_AUTH_EXEMPT_PATHS`) replaces that, as in the Python server: exactly
 * the listed request paths are open.
 */
import type { OperationSpec } from "@arp/model";

/** Whether a request for `op` at `rawPath` (no query string) skips authentication. */
export type Exemption = (op: OperationSpec, rawPath: string) => boolean;

const byTable: Exemption = (op) => op.auth === "none";

/** The exemption rule: the operation table's, unless `paths` (an explicit list, maybe empty) is given. */
export function exemption(paths: readonly string[] | undefined): Exemption {
  if (paths === undefined) return byTable;
  const open = new Set(paths);
  return (_op, rawPath) => open.has(rawPath);
}
