import { ArpApiError, SelectionClient } from "@arp/client";
import type * as T from "@arp/model";
import { validate } from "@arp/model";
import type { RunningServer } from "@arp/server";
import { afterEach, describe, expect, it } from "vitest";
import { Peers } from "../src/peers.js";
import {
  compareVersions,
  ReferenceSelection,
  rankCandidates,
  scoreNodeType,
  words,
} from "../src/services/selection.js";
import { atomic, type FakeRegistry, startRegistry } from "./selection.fakes.js";
import { checkDeep } from "./support/conformance.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeoutMs: 1_000 })));
});

const sideEffect = (side_effect_class: T.SideEffectClass): Partial<T.NodeType> => ({
  constraints: { gates: { side_effect_class } },
});

const INVENTORY: T.NodeType[] = [
  atomic("arp.ref.echo", "Echoes the input text unchanged"),
  atomic("arp.ref.upper", "Turns the text into upper case"),
  atomic("arp.ref.reverse", "Reverses a text"),
  atomic("acme.text.echo", "Echo service for a text", sideEffect("read")),
  atomic("acme.file.write", "Writes the text to a file", sideEffect("write")),
  atomic("acme.mail.send", "Sends the text as an email", sideEffect("irreversible")),
  atomic("arp.ref.upper", "Turns the text into upper case (newer)", {}, "1.10.0"),
  atomic("arp.ref.upper", "Turns the text into upper case (older)", {}, "1.9.0"),
];

async function selectionWith(
  nodeTypes: readonly T.NodeType[],
  options: { inventoryTtlMs?: number; defaultTopK?: number; maxTopK?: number } = {},
): Promise<{ client: SelectionClient; registry: FakeRegistry; selection: ReferenceSelection; url: string }> {
  const { registry, running } = await startRegistry(nodeTypes);
  servers.push(running);
  const selection = new ReferenceSelection({
    peers: new Peers({ urls: { "node-registry": running.url } }),
    ...options,
  });
  const server = await selection.listen({ port: 0 });
  servers.push(server);
  return { client: new SelectionClient({ baseUrl: server.url }), registry, selection, url: server.url };
}

const ids = (set: T.CandidateSet) => set.candidates.map((c) => c.node_type_ref.node_type_id);

describe("selection scoring", () => {
  it("cuts text into lower-case words without stop words or repeats", () => {
    expect(words("Echo a short TEXT, then echo the text-2!")).toEqual(["echo", "short", "text"]);
    expect(words("arp.ref.echo")).toEqual(["arp", "ref", "echo"]);
  });

  it("scores id matches 2, description-only matches 1, over 2 per goal word; prefixes of 4+ letters match", () => {
    // goal words: echo (in the id), short (nowhere), text (in the description): (2 + 0 + 1) / 6
    expect(
      scoreNodeType("Echo a short text", { node_type_id: "arp.ref.echo", description: "Echoes texts" }),
    ).toEqual({
      score: 0.5,
      inId: ["echo"],
      inDescription: ["text"],
    });
    expect(scoreNodeType("echoes", { node_type_id: "arp.ref.echo" }).score).toBe(1);
    expect(scoreNodeType("refs", { node_type_id: "arp.ref.echo" }).score).toBe(0); // "ref" is under 4 letters
    expect(scoreNodeType("", { node_type_id: "arp.ref.echo" }).score).toBe(0);
  });

  it("compares versions part by part, numerically", () => {
    expect(compareVersions("1.10.0", "1.9.0")).toBeGreaterThan(0);
    expect(compareVersions("1.0.0", "1.0.0")).toBe(0);
    expect(compareVersions("2.0.0-beta", "2.0.0-alpha")).toBeGreaterThan(0);
  });
});

describe("ReferenceSelection", () => {
  it("ranks the inventory deterministically (score, then id), echoes subtask_id, makes unique set ids", async () => {
    const { client } = await selectionWith(INVENTORY);
    const request: T.CandidateSetRequest = { subtask_spec: { subtask_id: "st_1", goal: "Echo the text" } };
    const first = await client.generateCandidateSet(request);
    const second = await client.generateCandidateSet(request);
    expect(validate("CandidateSet", first).ok).toBe(true);
    expect(first.subtask_id).toBe("st_1");
    expect(first.candidate_set_id).not.toBe(second.candidate_set_id);
    expect(first.candidates).toEqual(second.candidates);
    // acme.text.echo has both words in its id (1); arp.ref.echo one in its id, one in its description (0.75).
    expect(first.candidates.slice(0, 2)).toEqual([
      expect.objectContaining({ score: 1, rationale: "goal words matched in its id: echo, text" }),
      expect.objectContaining({
        node_type_ref: { node_type_id: "arp.ref.echo", version: "1.0.0" },
        score: 0.75,
        rationale: "goal words matched in its id: echo; in its description: text",
      }),
    ]);
    const scores = first.candidates.map((c) => c.score!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(first.top_k).toBe(5);
    expect(first.candidates.length).toBeLessThanOrEqual(5);
    expect(first.candidates.every((c) => (c.score ?? 0) > 0)).toBe(true);
  });

  it("breaks ties by node_type_id, whatever the registry's order", () => {
    const filters = { topK: 10, denied: new Set<string>() };
    const tied = [atomic("zz.echo", ""), atomic("aa.echo", ""), atomic("mm.echo", "")];
    const order = (list: T.NodeType[]) =>
      rankCandidates("echo", list, filters).map((c) => c.node_type_ref.node_type_id);
    expect(order(tied)).toEqual(["aa.echo", "mm.echo", "zz.echo"]);
    expect(order([...tied].reverse())).toEqual(["aa.echo", "mm.echo", "zz.echo"]);
  });

  it("proposes one candidate per node type: its highest version", async () => {
    const { client } = await selectionWith(INVENTORY);
    const set = await client.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "upper case" } });
    expect(set.candidates.filter((c) => c.node_type_ref.node_type_id === "arp.ref.upper")).toEqual([
      expect.objectContaining({ node_type_ref: { node_type_id: "arp.ref.upper", version: "1.10.0" } }),
    ]);
  });

  it("top_k: the smaller max_candidates_per_subtask of request and subtask, else the default; capped", async () => {
    const { client } = await selectionWith(INVENTORY, { defaultTopK: 3, maxTopK: 4 });
    const goal = "text";
    const ask = (constraints?: T.ConstraintEnvelope, subtask?: T.ConstraintEnvelope) =>
      client.generateCandidateSet({
        subtask_spec: { subtask_id: "s", goal, ...(subtask === undefined ? {} : { constraints: subtask }) },
        ...(constraints === undefined ? {} : { constraints }),
      });
    const byDefault = await ask();
    expect([byDefault.top_k, byDefault.candidates.length]).toEqual([3, 3]);
    const two = await ask({ candidates: { max_candidates_per_subtask: 2 } });
    expect([two.top_k, two.candidates.length]).toEqual([2, 2]);
    const one = await ask(
      { candidates: { max_candidates_per_subtask: 2 } },
      { candidates: { max_candidates_per_subtask: 1 } },
    );
    expect([one.top_k, one.candidates.length]).toEqual([1, 1]);
    const capped = await ask({ candidates: { max_candidates_per_subtask: 100 } });
    expect([capped.top_k, capped.candidates.length]).toEqual([4, 4]);
  });

  it("allow and deny lists: the request's and the subtask's both apply (allowed: in both; denied: in either)", async () => {
    const { client } = await selectionWith(INVENTORY);
    const set = await client.generateCandidateSet({
      subtask_spec: {
        subtask_id: "s",
        goal: "echo text",
        constraints: {
          candidates: { allowed_node_type_ids: ["arp.ref.echo", "acme.text.echo", "arp.ref.upper"] },
        },
      },
      constraints: {
        candidates: {
          allowed_node_type_ids: ["arp.ref.echo", "acme.text.echo", "acme.file.write"],
          denied_node_type_ids: ["acme.text.echo"],
        },
      },
    });
    expect(ids(set)).toEqual(["arp.ref.echo"]);
    expect(set.constraints).toEqual({
      candidates: {
        max_candidates_per_subtask: 5,
        allowed_node_type_ids: ["acme.text.echo", "arp.ref.echo"],
        denied_node_type_ids: ["acme.text.echo"],
      },
    });
  });

  it("side-effect gate: node types declaring a class above the stricter gate are left out; undeclared ones stay", async () => {
    const { client } = await selectionWith(INVENTORY, { defaultTopK: 10 });
    const ask = (constraints: T.ConstraintEnvelope, subtask?: T.ConstraintEnvelope) =>
      client.generateCandidateSet({
        subtask_spec: {
          subtask_id: "s",
          goal: "text",
          ...(subtask === undefined ? {} : { constraints: subtask }),
        },
        constraints,
      });
    const all = ids(await ask({}));
    expect(all).toEqual(expect.arrayContaining(["acme.file.write", "acme.mail.send", "acme.text.echo"]));
    const write = ids(await ask({ gates: { side_effect_class: "write" } }));
    expect(write).toContain("acme.file.write");
    expect(write).not.toContain("acme.mail.send");
    const read = await ask(
      { gates: { side_effect_class: "irreversible" } },
      { gates: { side_effect_class: "read" } },
    );
    expect(ids(read)).not.toContain("acme.file.write");
    expect(ids(read)).not.toContain("acme.mail.send");
    expect(ids(read)).toEqual(expect.arrayContaining(["acme.text.echo", "arp.ref.echo"]));
    expect(read.constraints?.gates).toEqual({ side_effect_class: "read" });
  });

  it("nothing that fits: an empty candidate list", async () => {
    const { client } = await selectionWith(INVENTORY);
    const set = await client.generateCandidateSet({
      subtask_spec: { subtask_id: "s", goal: "translate into Klingon" },
    });
    expect(set.candidates).toEqual([]);
  });

  it("reads the registry once per TTL (shared by concurrent requests); refresh() forgets it", async () => {
    const { client, registry, selection } = await selectionWith(INVENTORY, { inventoryTtlMs: 60_000 });
    const ask = () => client.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "echo" } });
    await Promise.all([ask(), ask(), ask()]);
    await ask();
    expect(registry.listCalls).toBe(1);
    registry.nodeTypes.push(atomic("zz.echo", "echo"));
    expect(ids(await ask())).not.toContain("zz.echo"); // still the cached inventory
    selection.refresh();
    expect(ids(await ask())).toContain("zz.echo");
    expect(registry.listCalls).toBe(2);

    const uncached = await selectionWith(INVENTORY, { inventoryTtlMs: 0 });
    await uncached.client.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "echo" } });
    await uncached.client.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "echo" } });
    expect(uncached.registry.listCalls).toBe(2);
  });

  it("a registry that fails is a 503 unavailable, and the next request tries again", async () => {
    const { client, registry } = await selectionWith(INVENTORY, { inventoryTtlMs: 0 });
    registry.broken = true;
    const error = await client
      .generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "echo" } }, { retry: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArpApiError);
    expect(error).toMatchObject({ status: 503, code: "unavailable", retryable: true });
    expect((error as ArpApiError).message).toMatch(/^the node registry could not be read/);
    registry.broken = false;
    expect(
      ids(await client.generateCandidateSet({ subtask_spec: { subtask_id: "s", goal: "echo" } })),
    ).toContain("arp.ref.echo");
  });

  it("arp-conformance check selection --tier deep --allow-mutations --strict: every check passes", async () => {
    const { url } = await selectionWith(INVENTORY);
    const report = await checkDeep("selection", url);
    expect(report.results.filter((r) => r.status !== "PASS")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.check_id)).toContain("core.generateCandidateSet.generate");
  });
});
