/** The whole stack in one process: the demo, the conformance checker, --secure, a swapped service. */

import { runConformance } from "@arp/conformance";
import type { NodeType } from "@arp/model";
import { BaseNodeRegistryServer, type NodeRegistryRequests, notFound } from "@arp/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_NODE_TYPES } from "../src/catalog/index.js";
import { runDemo } from "../src/demo.js";
import { type RunningStack, startStack } from "../src/stack.js";
import { SERVICE_KEYS, type ServiceKey } from "../src/urls.js";
import { stackFixtures } from "./support/conformance.js";

const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0])) as Record<ServiceKey, number>;
const QUIET = { warn: () => undefined, error: () => undefined };

function fixtures(stack: RunningStack, service: ServiceKey) {
  return stackFixtures(stack.urls["run-coordinator"], service);
}

async function demo(
  stack: RunningStack,
  token?: (audience: "run-gateway" | "run-coordinator") => Promise<string>,
) {
  const lines: string[] = [];
  const run = await runDemo({
    gateway: stack.urls["run-gateway"],
    coordinator: stack.urls["run-coordinator"],
    write: (line) => lines.push(line),
    ...(token ? { token } : {}),
  });
  return { run, lines };
}

describe("the stack, in memory", () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack({ ports: ANY_PORT, logger: QUIET });
  });
  afterAll(() => stack.close());

  it("runs the demo pipeline end to end: every node run succeeded, events gap-free from 0", async () => {
    const { run, lines } = await demo(stack);
    expect(run.state).toBe("succeeded");
    const seqs = lines.filter((l) => /^\s+\d+ [a-z_]+/.test(l)).map((l) => Number(l.trim().split(" ")[0]));
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const tree = lines.filter((l) => /^\s+arp\.ref\./.test(l));
    expect(tree.map((l) => l.trim().split(" ")[0])).toEqual([
      "arp.ref.pipeline",
      "arp.ref.text.upper",
      "arp.ref.text.reverse",
      "arp.ref.text.word_count",
      "arp.ref.sha256",
    ]);
    expect(tree.every((l) => l.includes(" succeeded"))).toBe(true);
  });

  it("passes arp-conformance check --tier deep --allow-mutations for all seven services, strict", async () => {
    const notPassed: string[] = [];
    for (const key of SERVICE_KEYS) {
      const report = await runConformance({
        service: key,
        url: stack.urls[key],
        tier: "deep",
        allowMutations: true,
        fixtures: fixtures(stack, key),
        pollIntervalMs: 50,
        strict: true,
      });
      notPassed.push(
        ...report.results
          .filter((r) => r.status !== "PASS")
          .map((r) => `${key}/${r.check_id}: ${r.status} ${r.message}`),
      );
    }
    expect(notPassed).toEqual([]);
  });
});

describe("the stack, --secure", () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack({ ports: ANY_PORT, secure: true, logger: QUIET });
  });
  afterAll(() => stack.close());

  it("runs the demo with tokens, and every service passes the deep tier with --auth-probe", async () => {
    const issuer = stack.issuer!;
    const { run } = await demo(stack, async (audience) => (await issuer.mint(audience, "demo")).token);
    expect(run.state).toBe("succeeded");
    const notPassed: string[] = [];
    for (const key of SERVICE_KEYS) {
      const { token } = await issuer.mint(key, "conformance");
      const report = await runConformance({
        service: key,
        url: stack.urls[key],
        tier: "deep",
        allowMutations: true,
        authProbe: true,
        headers: { Authorization: `Bearer ${token}` },
        fixtures: fixtures(stack, key),
        pollIntervalMs: 50,
        strict: true,
      });
      notPassed.push(
        ...report.results
          .filter((r) => r.status !== "PASS")
          .map((r) => `${key}/${r.check_id}: ${r.status} ${r.message}`),
      );
      expect(
        report.results.some((r) => r.check_id.startsWith("deep.auth.")),
        key,
      ).toBe(true);
    }
    expect(notPassed).toEqual([]);
  });
});

/** A second Node Registry, written here independently of the stack's: the smallest that works. */
class MinimalRegistry extends BaseNodeRegistryServer {
  readonly #types = new Map<string, NodeType>(
    BUILTIN_NODE_TYPES.map((t) => [`${t.node_type_id}@${t.version}`, t]),
  );
  readonly asked: string[] = [];

  listNodeTypes(): NodeType[] {
    return [...this.#types.values()];
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): NodeType {
    this.#types.set(`${req.body.node_type.node_type_id}@${req.body.node_type.version}`, req.body.node_type);
    return req.body.node_type;
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): NodeType {
    this.asked.push(req.params.node_type_id);
    const found = [...this.#types.values()].find(
      (t) => t.node_type_id === req.params.node_type_id && (req.params.version ?? t.version) === t.version,
    );
    if (found === undefined) throw notFound(`no node type ${req.params.node_type_id}`);
    return found;
  }
}

describe("swappability", () => {
  it("the demo runs with the stack's Node Registry replaced by another implementation", async () => {
    const registry = new MinimalRegistry({ auth: { mode: "disabled" } });
    const running = await registry.listen({ port: 0 });
    const stack = await startStack({
      ports: ANY_PORT,
      external: { "node-registry": running.url },
      logger: QUIET,
    });
    try {
      expect(stack.urls["node-registry"]).toBe(running.url);
      const { run } = await demo(stack);
      expect(run.state).toBe("succeeded");
      expect(registry.asked).toContain("arp.ref.pipeline");
    } finally {
      await stack.close();
      await running.close();
    }
  });
});

describe("a policy of our own", () => {
  it("startStack({ policy }) gives the PDP that document: a deny-all policy refuses every run.start", async () => {
    const policy = { statements: [{ effect: "deny", actions: ["*"] }] };
    const stack = await startStack({ ports: ANY_PORT, logger: QUIET, policy });
    try {
      const error = await demo(stack).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 403, code: "policy_denied" });
    } finally {
      await stack.close();
    }
  });
});
