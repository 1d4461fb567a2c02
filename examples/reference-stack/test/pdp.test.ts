import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArpApiError, PdpClient } from "@arp/client";
import type * as T from "@arp/model";
import { validate } from "@arp/model";
import type { RunningServer } from "@arp/server";
import { afterEach, describe, expect, it } from "vitest";
import { Peers } from "../src/peers.js";
import { DEV_POLICY } from "../src/policy/dev-policy.js";
import { globToRegExp, type PolicyDocument, PolicyError, readPolicyFile } from "../src/policy/policy.js";
import { ReferencePdp } from "../src/services/pdp.js";
import { atomic, type FakeRegistry, startRegistry } from "./selection.fakes.js";
import { checkDeep } from "./support/conformance.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeoutMs: 1_000 })));
});

async function pdpWith(
  policy?: unknown,
  nodeTypes: T.NodeType[] = [],
): Promise<{ pdp: PdpClient; registry: FakeRegistry; url: string }> {
  const { registry, running } = await startRegistry(nodeTypes);
  servers.push(running);
  const service = new ReferencePdp({
    peers: new Peers({ urls: { "node-registry": running.url } }),
    ...(policy === undefined ? {} : { policy }),
  });
  const server = await service.listen({ port: 0 });
  servers.push(server);
  return { pdp: new PdpClient({ baseUrl: server.url }), registry, url: server.url };
}

const echo: T.NodeTypeRef = { node_type_id: "arp.ref.echo", version: "1.0.0" };

describe("policy patterns", () => {
  it("`*` is any run of characters; everything else is literal", () => {
    const re = globToRegExp("node.run.*");
    expect(re.test("node.run.execute")).toBe(true);
    expect(re.test("node.run.")).toBe(true);
    expect(re.test("node_run_execute")).toBe(false); // the dots are literal
    expect(re.test("xnode.run.execute")).toBe(false); // anchored
    expect(globToRegExp("a+b(c)").test("a+b(c)")).toBe(true);
    expect(globToRegExp("*").test("")).toBe(true);
    expect(globToRegExp("arp.*.echo").test("arp.ref.echo")).toBe(true);
  });
});

describe("ReferencePdp", () => {
  it("the development policy allows everything", async () => {
    const { pdp } = await pdpWith();
    for (const action of ["run.start", "node.run.execute", "anything"]) {
      const decision = await pdp.decidePolicy({ action, node_type_ref: echo });
      expect(validate("PolicyDecision", decision).ok).toBe(true);
      expect(decision).toMatchObject({ decision: "allow", reason_code: "allowed_by_statement" });
      expect(decision.message).toContain('statement "dev-allow-everything" allows');
    }
    expect(DEV_POLICY.statements).toHaveLength(1);
  });

  it("default deny: nothing matching is a deny", async () => {
    const { pdp } = await pdpWith({ statements: [{ effect: "allow", actions: ["run.start"] }] });
    expect(await pdp.decidePolicy({ action: "run.start" })).toMatchObject({ decision: "allow" });
    expect(await pdp.decidePolicy({ action: "node.run.execute", node_type_ref: echo })).toEqual({
      decision: "deny",
      reason_code: "no_matching_statement",
      message: "no statement allows node.run.execute on arp.ref.echo@1.0.0",
    });
    const empty = await pdpWith({ statements: [] });
    expect(await empty.pdp.decidePolicy({ action: "run.start" })).toMatchObject({ decision: "deny" });
  });

  it("any deny wins, wherever it is in the document, over allow and require_approval", async () => {
    const { pdp } = await pdpWith({
      statements: [
        { sid: "all", effect: "allow", actions: ["*"] },
        { sid: "approve", effect: "require_approval", actions: ["node.run.*"] },
        { sid: "no-mail", effect: "deny", actions: ["node.run.*"], resources: ["acme.mail.*"] },
      ],
    });
    expect(
      await pdp.decidePolicy({
        action: "node.run.execute",
        node_type_ref: { node_type_id: "acme.mail.send", version: "1" },
      }),
    ).toEqual({
      decision: "deny",
      reason_code: "denied_by_statement",
      message: 'statement "no-mail" denies node.run.execute on acme.mail.send@1',
      metadata: { labels: { statement: "no-mail" } },
    });
    // Without the denied resource: require_approval wins over allow.
    expect(await pdp.decidePolicy({ action: "node.run.execute", node_type_ref: echo })).toMatchObject({
      decision: "require_approval",
      reason_code: "approval_required_by_statement",
    });
    expect(await pdp.decidePolicy({ action: "run.start", node_type_ref: echo })).toMatchObject({
      decision: "allow",
    });
  });

  it("resources match the node type id with wildcards; a statement with resources needs a node type", async () => {
    const { pdp } = await pdpWith({
      statements: [{ sid: "ref", effect: "allow", actions: ["node.run.execute"], resources: ["arp.ref.*"] }],
    });
    const ask = (node_type_id?: string) =>
      pdp.decidePolicy({
        action: "node.run.execute",
        ...(node_type_id === undefined ? {} : { node_type_ref: { node_type_id, version: "1.0.0" } }),
      });
    expect((await ask("arp.ref.echo")).decision).toBe("allow");
    expect((await ask("arp.reference")).decision).toBe("deny");
    expect((await ask()).decision).toBe("deny");
  });

  it("require_approval carries an approval_ref whose id is the same for the same question", async () => {
    const { pdp } = await pdpWith({
      statements: [{ sid: "ask", effect: "require_approval", actions: ["*"] }],
    });
    const question: T.PolicyDecisionRequest = {
      action: "node.run.execute",
      run_id: "r1",
      node_run_id: "n1",
      node_type_ref: echo,
    };
    const a = await pdp.decidePolicy(question);
    const b = await pdp.decidePolicy(question);
    const c = await pdp.decidePolicy({ ...question, node_run_id: "n2" });
    expect(a.approval_ref?.approval_id).toMatch(/^apr_[0-9a-f]{32}$/);
    expect(b.approval_ref).toEqual(a.approval_ref);
    expect(c.approval_ref?.approval_id).not.toBe(a.approval_ref?.approval_id);
  });

  it("an allow becomes require_approval when the request's constraints require approval", async () => {
    const { pdp } = await pdpWith();
    const decision = await pdp.decidePolicy({
      action: "run.start",
      constraints: { gates: { require_approval: true } },
    });
    expect(decision).toMatchObject({
      decision: "require_approval",
      reason_code: "approval_required_by_constraints",
    });
    expect(decision.approval_ref?.approval_id).toMatch(/^apr_/);
  });

  it("conditions: context_equals, tenant_ids and actor_ids must all hold", async () => {
    const { pdp } = await pdpWith({
      statements: [
        {
          sid: "acme-prod",
          effect: "allow",
          actions: ["run.start"],
          conditions: {
            context_equals: { env: "prod", tier: 2, trusted: true },
            tenant_ids: ["acme"],
            actor_ids: ["alice", "bob"],
          },
        },
      ],
    });
    const base: T.PolicyDecisionRequest = {
      action: "run.start",
      context: { env: "prod", tier: 2, trusted: true, other: "ignored" },
      run_context: { tenant_id: "acme", actor: { type: "user", id: "alice" } },
    };
    expect((await pdp.decidePolicy(base)).decision).toBe("allow");
    const changed = (patch: Partial<T.PolicyDecisionRequest>) => pdp.decidePolicy({ ...base, ...patch });
    expect((await changed({ context: { env: "prod", tier: "2", trusted: true } })).decision).toBe("deny"); // "2" is not 2
    expect((await changed({ context: { env: "prod", tier: 2 } })).decision).toBe("deny"); // missing key
    expect(
      (await changed({ run_context: { tenant_id: "other", actor: { type: "user", id: "alice" } } })).decision,
    ).toBe("deny");
    expect(
      (await changed({ run_context: { tenant_id: "acme", actor: { type: "user", id: "eve" } } })).decision,
    ).toBe("deny");
    expect((await changed({ run_context: { tenant_id: "acme" } })).decision).toBe("deny");
  });

  it("side_effect_class: read from the registry; undeclared or unknown node types count as irreversible", async () => {
    const policy: PolicyDocument = {
      statements: [
        {
          sid: "no-irreversible",
          effect: "deny",
          actions: ["node.run.*"],
          conditions: { side_effect_class: ["irreversible"] },
        },
        {
          sid: "approve-writes",
          effect: "require_approval",
          actions: ["node.run.*"],
          conditions: { side_effect_class: ["write"] },
        },
        { sid: "rest", effect: "allow", actions: ["*"] },
      ],
    };
    const { pdp, registry } = await pdpWith(policy, [
      atomic("t.read", "", { constraints: { gates: { side_effect_class: "read" } } }),
      atomic("t.write", "", { constraints: { gates: { side_effect_class: "write" } } }),
      atomic("t.undeclared", ""),
    ]);
    const ask = (node_type_id: string) =>
      pdp.decidePolicy({ action: "node.run.execute", node_type_ref: { node_type_id, version: "1.0.0" } });
    expect((await ask("t.read")).decision).toBe("allow");
    expect((await ask("t.write")).decision).toBe("require_approval");
    expect(await ask("t.undeclared")).toMatchObject({ decision: "deny", reason_code: "denied_by_statement" });
    expect((await ask("t.unknown")).decision).toBe("deny");
    const reads = registry.getCalls;
    await ask("t.write"); // within the TTL: no new registry read
    expect(registry.getCalls).toBe(reads);
    // A request without a node type matches no side-effect condition.
    expect((await pdp.decidePolicy({ action: "node.run.execute" })).decision).toBe("allow");
    // Statements that need no registry read never cause one.
    const before = registry.getCalls;
    const start = await pdp.decidePolicy({
      action: "run.start",
      node_type_ref: { node_type_id: "t.new", version: "1" },
    });
    expect(start.decision).toBe("allow");
    expect(registry.getCalls).toBe(before);
  });

  it("a registry that cannot be read when a condition needs it is a 503, never an allow", async () => {
    const { pdp, registry } = await pdpWith({
      statements: [
        { effect: "deny", actions: ["*"], conditions: { side_effect_class: ["irreversible"] } },
        { effect: "allow", actions: ["*"] },
      ],
    });
    registry.broken = true;
    const error = await pdp
      .decidePolicy({ action: "node.run.execute", node_type_ref: echo }, { retry: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpApiError);
    expect(error).toMatchObject({ status: 503, code: "unavailable" });
  });

  it("checks the policy document at construction, naming every problem", () => {
    const make = (policy: unknown) => () => new ReferencePdp({ peers: new Peers({ urls: {} }), policy });
    expect(make({ statement: [] })).toThrow(PolicyError);
    let caught: PolicyError | undefined;
    try {
      make({
        statements: [
          { sid: "a", effect: "Allow", actions: ["*"] },
          { sid: "a", effect: "allow", actions: [] },
          { effect: "deny", actions: ["x"], resource: ["y"] },
          { effect: "deny", actions: ["x"], conditions: { side_effect_class: ["delete"], time: 1 } },
          "not a statement",
        ],
        version: 2,
      })();
    } catch (err) {
      caught = err as PolicyError;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect(caught!.problems).toEqual([
      "unknown field `version`",
      'statements[0] (sid "a").effect must be one of allow, deny, require_approval (got "Allow")',
      'statements[1] (sid "a").sid repeats an earlier statement\'s',
      'statements[1] (sid "a").actions must be a non-empty array of strings',
      "statements[2]: unknown field `resource`",
      "statements[3].conditions: unknown condition `time` (known: context_equals, tenant_ids, actor_ids, side_effect_class)",
      'statements[3].conditions.side_effect_class[0] must be one of read, write, irreversible (got "delete")',
      "statements[4] must be an object",
    ]);
    expect(caught!.message).toMatch(/^policy is not a valid policy document: unknown field `version`; /);
  });

  it("readPolicyFile names the file in its errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "arp-policy-"));
    try {
      const good = join(dir, "good.json");
      writeFileSync(good, JSON.stringify({ statements: [{ effect: "deny", actions: ["*"] }] }));
      expect(readPolicyFile(good).statements).toHaveLength(1);
      const bad = join(dir, "bad.json");
      writeFileSync(bad, "{ not json");
      expect(() => readPolicyFile(bad)).toThrow(`${bad} is not a valid policy document`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("arp-conformance check pdp --tier deep --allow-mutations --strict: every check passes", async () => {
    const { url } = await pdpWith();
    const report = await checkDeep("pdp", url);
    expect(report.results.filter((r) => r.status !== "PASS")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.check_id)).toContain("core.decidePolicy.decide");
  });
});
