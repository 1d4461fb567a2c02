/**
 * `arp-conformance check <service> --url URL` and `check all --<service>-url URL ...`: run the
 * checks of a tier against running services and report them.
 *
 * Exit codes: 0 no FAIL (with --strict: no WARN or SKIP either; with --expected-failures: no new
 * failure and no listed failure that passes); 1 otherwise; 2 a usage problem, found before any
 * request (3, an internal error, is `main()`'s).
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { applyBaseline, type Baseline, parseBaseline } from "../check/baseline.js";
import { type Fixtures, readFixtures } from "../check/fixtures.js";
import { MAX_DURATION_SECONDS } from "../check/limits.js";
import { type CheckReport, runChecks, TIERS, type Tier } from "../check/runner.js";
import { type SchemaSource, treeSchemas } from "../check/schemas.js";
import { resolveTargets, SERVICE_URL_OPTIONS, type Target } from "../check/targets.js";
import { UsageError } from "../errors.js";
import { checkLine, renderJson, renderJunit, renderText, textSummary } from "../report/check.js";
import { PROGRAM } from "../report/reporter.js";
import { compileSpecTree } from "../spec-tree.js";
import { type Command, listOption, type ParsedArgs, stringOption } from "./command.js";

function parseHeader(text: string, where: string): [string, string] {
  const at = text.indexOf("=");
  const name = at <= 0 ? "" : text.slice(0, at).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new UsageError(
      `${where}: expected KEY=VALUE with a header name as KEY, not ${JSON.stringify(text)}`,
    );
  }
  return [name, text.slice(at + 1).trim()];
}

/** `--headers-file` (KEY=VALUE lines, `#` comments) first, then each `--headers`, later ones winning. */
export function readHeaders(args: ParsedArgs): Record<string, string> {
  const headers: Record<string, string> = {};
  const file = stringOption(args, "headers-file");
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --headers-file ${file}: ${(err as Error).message}`, { path: file });
    }
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const [name, value] = parseHeader(line, `${file}:${i + 1}`);
      headers[name] = value;
    }
  }
  for (const item of listOption(args, "headers")) {
    const [name, value] = parseHeader(item, "--headers");
    headers[name] = value;
  }
  return headers;
}

/**
 * A whole number ≥ 0 (`integer`), or else a number of seconds > 0 and at most
 * {@link MAX_DURATION_SECONDS} (a longer one would overflow the timer: see `check/limits.ts`).
 */
function number(args: ParsedArgs, name: string, integer: boolean): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value)) ||
    (!integer && value === 0)
  ) {
    throw new UsageError(
      `--${name} must be a ${integer ? "whole number ≥ 0" : "number of seconds > 0"}, not ${text}`,
    );
  }
  if (!integer && value > MAX_DURATION_SECONDS) {
    throw new UsageError(`--${name} must be at most ${MAX_DURATION_SECONDS} seconds (one day), not ${text}`);
  }
  return value;
}

/**
 * Throws {@link UsageError} unless the report can be written to `file` at the end: an existing
 * file that is writable, or a new one in a writable folder. Touches nothing: an existing file keeps
 * its content until the report replaces it.
 */
export function checkOutFile(file: string): void {
  const path = resolve(file);
  const cannot = (why: string): UsageError =>
    new UsageError(`cannot write --out ${file}: ${why}`, { path: file });
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw cannot((err as Error).message);
  }
  if (existing !== undefined) {
    if (existing.isDirectory()) throw cannot("it is a folder");
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw cannot("the file is not writable");
    }
    return;
  }
  const folder = dirname(path);
  let parent: ReturnType<typeof statSync>;
  try {
    parent = statSync(folder);
  } catch {
    throw cannot(`no folder ${folder}`);
  }
  if (!parent.isDirectory()) throw cannot(`${folder} is not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw cannot(`the folder ${folder} is not writable`);
  }
}

interface Plan {
  targets: Target[];
  tier: Tier;
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  strict: boolean;
  format: "text" | "json" | "junit";
  outFile: string | undefined;
  baseline: Baseline | undefined;
  allowMutations: boolean;
  fixtures: Fixtures | undefined;
  pollTimeoutMs: number | undefined;
  pollIntervalMs: number | undefined;
  cleanup: boolean;
  authProbe: boolean;
  /** With --spec-path: the tree, and each target's validators from it (checked before any request). */
  tree: { root: string; warnings: string[]; schemas: Map<string, SchemaSource> } | undefined;
}

function plan(args: ParsedArgs): Plan {
  const urls: Record<string, string | undefined> = {};
  for (const { key, option } of SERVICE_URL_OPTIONS) urls[key] = stringOption(args, option);
  const targets = resolveTargets(args.positionals[0], stringOption(args, "url"), urls);
  const baselineFile = stringOption(args, "expected-failures");
  let baseline: Baseline | undefined;
  if (baselineFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(baselineFile, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --expected-failures ${baselineFile}: ${(err as Error).message}`, {
        path: baselineFile,
      });
    }
    baseline = parseBaseline(text, baselineFile);
  }
  const fixturesFile = stringOption(args, "fixtures");
  const specPath = stringOption(args, "spec-path");
  const seconds = (name: string): number | undefined => {
    const value = number(args, name, false);
    return value === undefined ? undefined : value * 1000;
  };
  const tier = (stringOption(args, "tier") ?? "smoke") as Tier;
  const authProbe = args.values["auth-probe"] === true;
  if (authProbe && tier !== "deep")
    throw new UsageError(`--auth-probe is a deep-tier check: add --tier deep`);
  const outFile = stringOption(args, "out");
  // Before any request: a report that cannot be written must not cost a run (and its mutations).
  if (outFile !== undefined) checkOutFile(outFile);
  return {
    targets,
    tier,
    headers: readHeaders(args),
    timeoutMs: (number(args, "timeout", false) ?? 10) * 1000,
    retries: number(args, "retries", true) ?? 0,
    strict: args.values.strict === true,
    format: (stringOption(args, "format") ?? "text") as Plan["format"],
    outFile,
    baseline,
    allowMutations: args.values["allow-mutations"] === true,
    fixtures: fixturesFile === undefined ? undefined : readFixtures(fixturesFile),
    pollTimeoutMs: seconds("poll-timeout"),
    pollIntervalMs: seconds("poll-interval"),
    cleanup: args.values["no-cleanup"] !== true,
    authProbe,
    tree: specPath === undefined ? undefined : specTree(specPath, targets),
  };
}

/** Compiles `--spec-path`'s tree and picks every target's validators from it; throws UsageError. */
function specTree(dir: string, targets: readonly Target[]): NonNullable<Plan["tree"]> {
  const tree = compileSpecTree(dir);
  const schemas = new Map<string, SchemaSource>();
  for (const { service } of targets)
    schemas.set(service.key, treeSchemas(tree.validators, service, tree.root));
  return { root: tree.root, warnings: tree.warnings, schemas };
}

export const checkCommand: Command = {
  name: "check",
  summary: "Check running ARP services against the v1 contracts (tiers: smoke, surface, core, deep).",
  arguments: ["<service>|all"],
  options: [
    { name: "url", value: "URL", valueNoun: "a URL", help: "Base URL of the service (check <service>)." },
    ...SERVICE_URL_OPTIONS.map(({ key, option }) => ({
      name: option,
      value: "URL",
      valueNoun: "a URL",
      help: `Base URL of the ${key} service (check all).`,
    })),
    {
      name: "tier",
      value: TIERS.join("|"),
      choices: TIERS,
      help: "Checks to run, cumulative (default: smoke).",
    },
    {
      name: "allow-mutations",
      help: "Let the core tier create things: node types, runs, node runs,\nexecutions (without it, its checks are SKIP).",
    },
    {
      name: "fixtures",
      value: "FILE",
      valueNoun: "a file",
      help: "Request bodies for the core tier, JSON or YAML (see the README);\nkeys not given keep their defaults.",
    },
    {
      name: "poll-timeout",
      value: "S",
      valueNoun: "a number of seconds",
      help: "How long a run may take to reach a terminal state (default: 30,\nat most 86400).",
    },
    {
      name: "poll-interval",
      value: "S",
      valueNoun: "a number of seconds",
      help: "Pause between two reads of a run while waiting (default: 0.25,\nat most 86400).",
    },
    {
      name: "no-cleanup",
      help: "Leave the runs the checks started as they are (default: cancel\nthose still going at the end).",
    },
    { name: "spec", value: "v1", choices: ["v1"], help: "The spec version to check against (only v1)." },
    {
      name: "spec-path",
      value: "DIR",
      valueNoun: "a folder",
      help: "Judge against this spec tree's schemas, compiled at run time, and\nseed the invalid bodies from its vectors (a v1 folder, a folder\nholding v1/, or a repository root holding spec/v1).",
    },
    {
      name: "headers",
      value: "KEY=VALUE",
      valueNoun: "KEY=VALUE",
      multiple: true,
      help: "A header for every request (repeatable), e.g.\n--headers 'Authorization=Bearer eyJ...'. Never reported: the value\nof a header whose name contains key, token, secret, auth, cookie,\nsession, password, signature or credential.",
    },
    {
      name: "headers-file",
      value: "FILE",
      valueNoun: "a file",
      help: "Headers from a file: KEY=VALUE lines, # comments (--headers win).",
    },
    {
      name: "timeout",
      value: "S",
      valueNoun: "a number of seconds",
      help: "Deadline of one request in seconds (default: 10, at most 86400).",
    },
    {
      name: "retries",
      value: "N",
      valueNoun: "a number",
      help: "Send again after a transport error, up to N times (default: 0),\nonly operations the spec marks safe to repeat. An answer, even a\n5xx, and a timeout are never retried.",
    },
    { name: "strict", help: "Also fail on WARN and SKIP." },
    {
      name: "auth-probe",
      help: "Deep tier: send a protected operation without a token and with a\ngarbage one; each must answer 401 with a Bearer challenge.",
    },
    {
      name: "format",
      value: "text|json|junit",
      choices: ["text", "json", "junit"],
      help: "Report format (default: text).",
    },
    {
      name: "out",
      value: "FILE",
      valueNoun: "a file",
      help: "Write the report to FILE at the end (checked before any request:\nits folder must exist and be writable); with json or junit, the\ntext lines still go to stdout.",
    },
    {
      name: "expected-failures",
      value: "FILE",
      valueNoun: "a file",
      help: "Known failures, one <check id> or <service>/<check id> a line.\nA new failure fails the run, and so does a listed one that passes.",
    },
  ],
  details: `Tiers: smoke (health and version), surface (every route, invalid bodies, unknown ids,
success bodies; nothing is created), core (the success paths with real bodies), deep (event
streams, executor cancels, an unknown route's 404 envelope; with --auth-probe, 401s for a missing
and a garbage token). core and deep create things: their checks need --allow-mutations (without
it they are SKIP, a FAIL only with --strict).

Exit codes: 0 no FAIL (with --strict, no WARN or SKIP either), 1 otherwise, 2 usage error
(found before any request, or --out not writable at the end), 3 internal error of
arp-conformance (a bug; ARP_CONFORMANCE_DEBUG=1 prints its stack).
`,

  async run(args, { out, bundledSpecRoot }) {
    let p: Plan;
    try {
      p = plan(args);
    } catch (err) {
      if (err instanceof UsageError) {
        out.stderr(`${PROGRAM}: ${err.message}\nRun \`${PROGRAM} check --help\` for more.\n`);
        return 2;
      }
      throw err;
    }
    // Text lines go out as each check ends, unless the text report itself goes to --out.
    const live = p.format !== "text" ? p.outFile !== undefined : p.outFile === undefined;
    // On a terminal, the running check's line is rewritten by its result (carriage return, erase line).
    const clear = live && out.terminal === true ? "\r\x1b[2K" : "";
    for (const warning of p.tree?.warnings ?? []) out.stderr(`${PROGRAM}: warning: ${warning}\n`);
    const reports: CheckReport[] = [];
    for (const target of p.targets) {
      const report = await runChecks({
        service: target.service,
        url: target.url,
        tier: p.tier,
        headers: p.headers,
        timeoutMs: p.timeoutMs,
        retries: p.retries,
        strict: p.strict,
        specRoot: p.tree?.root ?? bundledSpecRoot,
        ...(p.tree === undefined
          ? {}
          : { schemas: p.tree.schemas.get(target.service.key)!, specRef: p.tree.root }),
        allowMutations: p.allowMutations,
        cleanup: p.cleanup,
        ...(p.fixtures === undefined ? {} : { fixtures: p.fixtures }),
        ...(p.pollTimeoutMs === undefined ? {} : { pollTimeoutMs: p.pollTimeoutMs }),
        ...(p.pollIntervalMs === undefined ? {} : { pollIntervalMs: p.pollIntervalMs }),
        ...(live ? { onResult: (r) => out.stdout(`${clear}${checkLine(target.service.key, r)}`) } : {}),
        ...(live && out.terminal === true
          ? { onStart: (c) => out.stdout(`${clear}… ${target.service.key}  ${c.id}`) }
          : {}),
        authProbe: p.authProbe,
      });
      reports.push(p.baseline === undefined ? report : applyBaseline(report, p.baseline));
    }
    const all = args.positionals[0] === "all";
    const rendered =
      p.format === "json"
        ? renderJson(reports, all)
        : p.format === "junit"
          ? renderJunit(reports)
          : renderText(reports);
    if (live) out.stdout(textSummary(reports));
    if (p.outFile !== undefined) {
      try {
        writeFileSync(p.outFile, rendered);
      } catch (err) {
        out.stderr(`${PROGRAM}: cannot write --out ${p.outFile}: ${(err as Error).message}\n`);
        return 2;
      }
    } else if (!live) {
      out.stdout(rendered);
    }
    return reports.every((r) => r.ok) ? 0 : 1;
  },
};
