/**
 * Fake peers of the Run Coordinator, each a minimal subclass of its `@arp/server` base class on a
 * real loopback port, recording what it was sent; and `startStack`, which wires them to a
 * {@link ReferenceRunCoordinator} through a real {@link Peers}.
 */
import { RunCoordinatorClient } from "@arp/client";
import type * as T from "@arp/model";
import {
  type AtomicExecutorRequests,
  BaseAtomicExecutorServer,
  BaseCompositeExecutorServer,
  BaseNodeRegistryServer,
  BasePdpServer,
  type CompositeExecutorRequests,
  conflict,
  type NodeRegistryRequests,
  notFound,
  type PdpRequests,
  type RunningServer,
  type ServerOptions,
} from "@arp/server";
import { Peers } from "../src/peers.js";
import {
  ReferenceRunCoordinator,
  type ReferenceRunCoordinatorOptions,
} from "../src/services/run-coordinator.js";
import type { Store } from "../src/store/interface.js";
import type { StackUrls } from "../src/urls.js";

/** Fakes and the coordinator under test report nothing (no console output in tests either). */
const quiet = { warn() {}, error() {} };
export const FAKE_SERVER: ServerOptions = { auth: { mode: "disabled" }, logger: quiet };

export const ECHO: T.NodeTypeRef = { node_type_id: "test.echo", version: "1.0.0" };
export const SLOW: T.NodeTypeRef = { node_type_id: "test.slow", version: "1.0.0" };
export const PLAN: T.NodeTypeRef = { node_type_id: "test.plan", version: "1.0.0" };
export const PLAN_SUB: T.NodeTypeRef = { node_type_id: "test.plan.sub", version: "1.0.0" };
export const OTHER: T.NodeTypeRef = { node_type_id: "test.other", version: "1.0.0" };

export class FakeRegistry extends BaseNodeRegistryServer {
  readonly types = new Map<string, T.NodeType>();
  readonly traceparents: (string | undefined)[] = [];

  constructor() {
    super(FAKE_SERVER);
    for (const [ref, kind] of [
      [ECHO, "atomic"],
      [SLOW, "atomic"],
      [OTHER, "atomic"],
      [PLAN, "composite"],
      [PLAN_SUB, "composite"],
    ] as const) {
      this.add({ ...ref, kind });
    }
  }

  add(nodeType: T.NodeType): void {
    this.types.set(`${nodeType.node_type_id}@${nodeType.version}`, nodeType);
  }

  listNodeTypes(): T.NodeType[] {
    return [...this.types.values()];
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): T.NodeType {
    const t = req.body.node_type;
    if (this.types.has(`${t.node_type_id}@${t.version}`)) throw conflict("published already");
    this.add(t);
    return t;
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): T.NodeType {
    this.traceparents.push(req.traceparent);
    const found = this.types.get(`${req.params.node_type_id}@${req.params.version}`);
    if (found === undefined) throw notFound(`no node type ${req.params.node_type_id}@${req.params.version}`);
    return found;
  }
}

export class FakePdp extends BasePdpServer {
  readonly requests: T.PolicyDecisionRequest[] = [];
  readonly traceparents: (string | undefined)[] = [];
  decide: (request: T.PolicyDecisionRequest) => T.PolicyDecision = () => ({ decision: "allow" });

  constructor() {
    super(FAKE_SERVER);
  }

  decidePolicy(req: PdpRequests["decidePolicy"]): T.PolicyDecision {
    this.requests.push(req.body);
    this.traceparents.push(req.traceparent);
    return this.decide(req.body);
  }
}

/** What an atomic executor does with one request; the default echoes `inputs.text` after `ms` ms. */
export type AtomicBehaviour = (
  req: T.AtomicExecuteRequest,
  signal: AbortSignal,
) => Promise<T.AtomicExecuteResult>;

export const echo: AtomicBehaviour = async (req) => ({
  node_run_id: req.node_run_id,
  state: "succeeded",
  outputs: { text: req.inputs.text },
});

/** Answers only when `signal` aborts (the coordinator gave up on the call): an executor that hangs. */
export const hang: AtomicBehaviour = (_req, signal) =>
  new Promise((_resolve, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );

export const after =
  (ms: number, then: AtomicBehaviour = echo): AtomicBehaviour =>
  (req, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(then(req, signal)), ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });

export class FakeAtomicExecutor extends BaseAtomicExecutorServer {
  readonly executed: T.AtomicExecuteRequest[] = [];
  readonly traceparents: (string | undefined)[] = [];
  readonly canceled: string[] = [];
  /** Node runs whose request was aborted by the coordinator while executing. */
  readonly aborted: string[] = [];
  behaviour: AtomicBehaviour = echo;
  /** By node type id: overrides `behaviour`. */
  readonly byType = new Map<string, AtomicBehaviour>();

  constructor() {
    super(FAKE_SERVER);
  }

  async executeAtomicNodeRun(
    req: AtomicExecutorRequests["executeAtomicNodeRun"],
  ): Promise<T.AtomicExecuteResult> {
    this.executed.push(req.body);
    this.traceparents.push(req.traceparent);
    req.signal.addEventListener("abort", () => this.aborted.push(req.body.node_run_id), { once: true });
    const behaviour = this.byType.get(req.body.node_type_ref.node_type_id) ?? this.behaviour;
    return behaviour(req.body, req.signal);
  }

  override cancelAtomicNodeRun(req: AtomicExecutorRequests["cancelAtomicNodeRun"]): void {
    this.canceled.push(req.params.node_run_id);
  }
}

/** What a composite executor does after accepting (in the background); the default: nothing. */
export type CompositeScript = (begin: T.CompositeBeginRequest) => Promise<void>;

export class FakeCompositeExecutor extends BaseCompositeExecutorServer {
  readonly begun: T.CompositeBeginRequest[] = [];
  readonly canceled: string[] = [];
  /** Failures of the scripts (a test that expects none checks this is empty). */
  readonly failures: unknown[] = [];
  script: CompositeScript = async () => {};
  readonly #running = new Set<Promise<void>>();

  constructor() {
    super(FAKE_SERVER);
  }

  beginCompositeNodeRun(req: CompositeExecutorRequests["beginCompositeNodeRun"]): T.CompositeBeginResponse {
    this.begun.push(req.body);
    const work = this.script(req.body).catch((err: unknown) => {
      this.failures.push(err);
    });
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
    return { accepted: true };
  }

  override cancelCompositeNodeRun(req: CompositeExecutorRequests["cancelCompositeNodeRun"]): void {
    this.canceled.push(req.params.node_run_id);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}

/**
 * A composite that decomposes into two atomic echo children, waits for them (their node run
 * streams end when they do), evaluates each and completes with their outputs.
 */
export const twoEchoChildren: CompositeScript = async (begin) => {
  const coordinator = new RunCoordinatorClient({ baseUrl: begin.coordinator_endpoint });
  const { node_runs } = await coordinator.createNodeRuns({
    run_id: begin.run_id,
    parent_node_run_id: begin.node_run_id,
    node_runs: ["a", "b"].map((text) => ({
      node_type_ref: ECHO,
      inputs: { text },
      idempotency_key: `${begin.node_run_id}/${text}`,
    })),
  });
  const ended: T.NodeRun[] = [];
  for (const child of node_runs) {
    for await (const _ of coordinator.streamNodeRunEvents(child.node_run_id, { idleTimeoutMs: 10_000 })) {
      // read to its end: the child is then terminal
    }
    ended.push(await coordinator.getNodeRun(child.node_run_id));
  }
  for (const child of ended) {
    await coordinator.reportNodeRunEvaluation(child.node_run_id, {
      evaluation_result: { status: child.state === "succeeded" ? "success" : "fail" },
    });
  }
  await coordinator.completeNodeRun(begin.node_run_id, {
    state: ended.every((c) => c.state === "succeeded") ? "succeeded" : "failed",
    outputs: { texts: ended.map((c) => c.outputs?.text) },
  });
};

export interface Stack {
  coordinator: ReferenceRunCoordinator;
  client: RunCoordinatorClient;
  registry: FakeRegistry;
  pdp: FakePdp;
  atomic: FakeAtomicExecutor;
  composite: FakeCompositeExecutor;
  urls: Partial<StackUrls>;
  close(): Promise<void>;
}

/** The fakes and a coordinator, all listening on loopback ports. */
export async function startStack(
  options: Omit<ReferenceRunCoordinatorOptions, "peers"> = {},
  setup: (fakes: Pick<Stack, "registry" | "pdp" | "atomic" | "composite">) => void = () => {},
): Promise<Stack> {
  const fakes = {
    registry: new FakeRegistry(),
    pdp: new FakePdp(),
    atomic: new FakeAtomicExecutor(),
    composite: new FakeCompositeExecutor(),
  };
  setup(fakes);
  const running: RunningServer[] = [];
  const listen = async (server: { listen(o: { port: number }): Promise<RunningServer> }) => {
    const r = await server.listen({ port: 0 });
    running.push(r);
    return r.url;
  };
  const urls: Partial<StackUrls> = {
    "node-registry": await listen(fakes.registry),
    pdp: await listen(fakes.pdp),
    "atomic-executor": await listen(fakes.atomic),
    "composite-executor": await listen(fakes.composite),
  };
  const coordinator = new ReferenceRunCoordinator({
    peers: new Peers({ urls }),
    server: FAKE_SERVER,
    sweepIntervalMs: 0,
    ...options,
  });
  urls["run-coordinator"] = await listen(coordinator);
  return {
    ...fakes,
    coordinator,
    client: new RunCoordinatorClient({ baseUrl: urls["run-coordinator"], retry: false }),
    urls,
    async close() {
      await fakes.composite.settled();
      await coordinator.stop();
      await Promise.all(running.map((r) => r.close({ timeoutMs: 1_000 })));
    },
  };
}

/**
 * A run whose root (an atomic echo of `text`) is queued and was never dispatched, as a crashed or
 * cut-off replica leaves one: created at `created` (ISO), owned by `owner`. Written straight into
 * `store`, for a sweep to find.
 */
export async function commitQueuedRun(
  store: Store,
  o: { runId: string; owner: string; created: string; text: string },
): Promise<void> {
  const { runId, owner, created, text } = o;
  const committed = await store.commit({
    run_id: runId,
    create_run: {
      run: { run_id: runId, state: "running", root_node_run_id: `${runId}.0`, started_at: created },
      node_count: 1,
    },
    insert_node_runs: [
      {
        node_run: {
          node_run_id: `${runId}.0`,
          run_id: runId,
          node_type_ref: ECHO,
          kind: "atomic",
          state: "queued",
          created_at: created,
          inputs: { text },
        },
        depth: 0,
        children: 0,
        rounds: 0,
        evaluations: 0,
        timeout: { ms: 60_000, source: "default", idle: false },
        deadline_ms: Date.now() + 60_000,
        owner,
      },
    ],
    events: [{ type: "run_started", time: created }],
  });
  if (!committed.ok) throw new Error(`could not write run ${runId}: ${committed.reason}`);
}

/** Every event of a run, read from its stream to its end (`run_completed`). */
export async function runEvents(client: RunCoordinatorClient, runId: string): Promise<T.RunEvent[]> {
  const events: T.RunEvent[] = [];
  for await (const event of client.streamRunEvents(runId, { idleTimeoutMs: 10_000 })) events.push(event);
  return events;
}

/** Every event of a node run's stream, to its end. */
export async function nodeRunEvents(client: RunCoordinatorClient, nodeRunId: string): Promise<T.RunEvent[]> {
  const events: T.RunEvent[] = [];
  for await (const event of client.streamNodeRunEvents(nodeRunId, { idleTimeoutMs: 10_000 }))
    events.push(event);
  return events;
}

/** `[type, node_run_id, data.state]` of each event: the shape of a run's history. */
export function shape(events: readonly T.RunEvent[]): [string, string | undefined, unknown][] {
  return events.map((e) => [e.type, e.node_run_id, e.data?.state]);
}
