/**
 * The demo workflow `npm start` runs: a pipeline of several built-in node types, started through
 * the gateway, its events printed as they stream, then the run as a tree of node runs.
 */
import { RunCoordinatorClient, RunGatewayClient } from "@arp/client";
import type * as T from "@arp/model";
import { PIPELINE_NODE_TYPE_ID } from "./catalog/composite.js";

const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });

/** Text in, through three text transforms, then its SHA-256. */
export const DEMO_RUN: T.RunStartRequest = {
  root_node_type_ref: { node_type_id: PIPELINE_NODE_TYPE_ID, version: "1.0.0" },
  input: {
    input: { text: "ARP runs agent workflows across services" },
    steps: [
      { node_type: ref("text.upper") },
      { node_type: ref("text.reverse") },
      { node_type: ref("text.word_count") },
      { node_type: ref("sha256") },
    ],
  },
};

export interface DemoOptions {
  gateway: string;
  coordinator: string;
  /** For a secure stack: a token for each audience. */
  token?: (audience: "run-gateway" | "run-coordinator") => Promise<string>;
  /** Where the lines go. */
  write: (line: string) => void;
  /** Gives up (rejects) when aborted. Default: after {@link DEMO_DEADLINE_MS}. */
  signal?: AbortSignal;
}

/** How long the demo may take before it gives up: it must never hang `npm start -- --once`. */
export const DEMO_DEADLINE_MS = 60_000;

/** Runs the demo; resolves with the final run. */
export async function runDemo(options: DemoOptions): Promise<T.Run> {
  const bearer = (audience: "run-gateway" | "run-coordinator") =>
    options.token === undefined ? {} : { bearerToken: () => options.token!(audience) };
  const gateway = new RunGatewayClient({ baseUrl: options.gateway, ...bearer("run-gateway") });
  const coordinator = new RunCoordinatorClient({
    baseUrl: options.coordinator,
    ...bearer("run-coordinator"),
  });
  const signal = options.signal ?? AbortSignal.timeout(DEMO_DEADLINE_MS);
  const started = await gateway.startRun(DEMO_RUN, { signal });
  options.write(`run ${started.run_id} started (root ${started.root_node_run_id})`);
  const ids = new Set<string>([started.root_node_run_id]);
  for await (const event of gateway.streamRunEvents(started.run_id, { signal })) {
    if (event.node_run_id !== undefined) ids.add(event.node_run_id);
    const state = typeof event.data?.state === "string" ? ` ${event.data.state}` : "";
    options.write(
      `  ${String(event.seq).padStart(3)} ${event.type}${event.node_run_id ? ` ${event.node_run_id}` : ""}${state}`,
    );
  }
  const run = await gateway.getRun(started.run_id, { signal });
  const nodeRuns = await Promise.all([...ids].map((id) => coordinator.getNodeRun(id, { signal })));
  options.write(`run ${run.run_id}: ${run.state}`);
  for (const line of tree(nodeRuns, run.root_node_run_id)) options.write(line);
  return run;
}

/** The node runs as an indented tree, with their states and outputs. */
export function tree(nodeRuns: readonly T.NodeRun[], rootId: string): string[] {
  const children = new Map<string, T.NodeRun[]>();
  for (const n of nodeRuns) {
    if (n.parent_node_run_id === undefined) continue;
    const list = children.get(n.parent_node_run_id) ?? [];
    list.push(n);
    children.set(n.parent_node_run_id, list);
  }
  const lines: string[] = [];
  const visit = (n: T.NodeRun, depth: number) => {
    const outputs = n.outputs === undefined ? "" : ` ${JSON.stringify(n.outputs)}`;
    // NodeRun has no error field: the coordinator keeps a failure's error under this extension.
    const failure = n.extensions?.["arp-ts.error"] as { code?: string; message?: string } | undefined;
    const error = failure === undefined ? "" : ` error ${failure.code}: ${failure.message}`;
    lines.push(
      `${"  ".repeat(depth + 1)}${n.node_type_ref.node_type_id} ${n.node_run_id} ${n.state}${outputs}${error}`,
    );
    for (const child of children.get(n.node_run_id) ?? []) visit(child, depth + 1);
  };
  const root = nodeRuns.find((n) => n.node_run_id === rootId);
  if (root !== undefined) visit(root, 0);
  return lines;
}
