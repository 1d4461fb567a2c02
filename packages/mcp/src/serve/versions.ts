/**
 * Which version of a node type becomes its MCP tool: MCP tool names are unique, so a registry that
 * holds several versions of one `node_type_id` gives one tool, the latest by semver precedence
 * (semver.org §11: numeric core, then a release above its pre-releases, pre-release identifiers
 * compared one by one; build metadata ignored). A version that is not semver ranks below every
 * semver one; among themselves such versions compare as strings, so the choice is deterministic.
 */

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

interface Parsed {
  core: [bigint, bigint, bigint];
  pre: string[];
}

function parse(version: string): Parsed | undefined {
  const m = SEMVER.exec(version);
  if (m === null) return undefined;
  return {
    core: [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)],
    pre: m[4] === undefined ? [] : m[4].split("."),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  if (an !== bn) return an ? -1 : 1; // numeric identifiers rank below alphanumeric ones
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when `a` is older than `b`, positive when newer, 0 when they rank the same. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined || pb === undefined) {
    if (pa !== pb) return pa === undefined ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  for (let i = 0; i < 3; i++) {
    if (pa.core[i]! !== pb.core[i]!) return pa.core[i]! < pb.core[i]! ? -1 : 1;
  }
  if (pa.pre.length === 0 || pb.pre.length === 0) return pb.pre.length - pa.pre.length;
  for (let i = 0; i < Math.min(pa.pre.length, pb.pre.length); i++) {
    const c = compareIdentifiers(pa.pre[i]!, pb.pre[i]!);
    if (c !== 0) return c;
  }
  return pa.pre.length - pb.pre.length;
}
