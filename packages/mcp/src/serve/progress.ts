/**
 * `notifications/progress` for one tool call, from its run's events: `progress` is the number of
 * events seen so far (it only grows, as MCP requires; a run's length is not known beforehand, so
 * there is no `total`), `message` says what the latest one was, and `_meta` names the run (so that a
 * client can find the run of a call it canceled). At most one notification per
 * `intervalMs`: events in between are folded into the next one. The run's last event is always sent.
 */
import type { RunEvent } from "@arp/model";

/** Sends one notification; `runId` is the run it is about (the notification's `_meta`). */
export type SendProgress = (progress: number, message: string, runId: string) => Promise<void>;

/** `run_started`, `atomic_executed arp.ref.echo succeeded`, ...: the event type, what it concerns, its state. */
export function describeEvent(event: RunEvent, nodeTypes: ReadonlyMap<string, string>): string {
  const data = event.data ?? {};
  const parts: string[] = [event.type];
  // `run_started` concerns the root node run without naming it as `node_run_id`.
  const nodeRunId =
    event.node_run_id ?? (typeof data.root_node_run_id === "string" ? data.root_node_run_id : undefined);
  const nodeType = nodeRunId === undefined ? undefined : nodeTypes.get(nodeRunId);
  if (nodeType !== undefined) parts.push(nodeType);
  else if (nodeRunId !== undefined) parts.push(nodeRunId);
  if (typeof data.state === "string") parts.push(data.state);
  else if (typeof data.status === "string") parts.push(data.status);
  else if (typeof data.decision === "string")
    parts.push(`${String(data.action ?? "")} ${data.decision}`.trim());
  return parts.join(" ");
}

/**
 * The most node runs whose node type one call remembers for its messages: a run's size is the
 * gateway's to bound, not ours, and a gateway that streams ever new node runs must not grow this.
 * Past it, messages name the node run instead.
 */
export const MAX_NAMED_NODE_RUNS = 10_000;

/** Node type id per node run, learnt from `run_started` and `subtask_mapped` (at most MAX_NAMED_NODE_RUNS). */
function learnNodeType(event: RunEvent, nodeTypes: Map<string, string>): void {
  if (nodeTypes.size >= MAX_NAMED_NODE_RUNS) return;
  const data = event.data ?? {};
  const ref = data.node_type_ref as { node_type_id?: unknown } | undefined;
  if (typeof ref?.node_type_id !== "string") return;
  const nodeRunId = event.type === "run_started" ? data.root_node_run_id : event.node_run_id;
  if (typeof nodeRunId === "string") nodeTypes.set(nodeRunId, ref.node_type_id);
}

export class ProgressReporter {
  readonly #send: SendProgress | undefined;
  readonly #runId: string;
  readonly #intervalMs: number;
  readonly #nodeTypes = new Map<string, string>();
  #seen = 0;
  #sentAt = Number.NEGATIVE_INFINITY;

  /** `send` is undefined when the caller gave no `progressToken`: then nothing is sent. */
  constructor(send: SendProgress | undefined, runId: string, intervalMs: number) {
    this.#send = send;
    this.#runId = runId;
    this.#intervalMs = intervalMs;
  }

  /**
   * Counts `event` and sends a notification if one is due. Waits for the send (so that a client that
   * reads slowly slows the run's stream down rather than piling notifications up), but never past
   * `signal`: a client that reads nothing at all (stdio: its stdout pipe full) cannot hold the call
   * beyond its deadline or cancel. Then this rejects with the signal's reason.
   */
  async event(event: RunEvent, last: boolean, signal?: AbortSignal): Promise<void> {
    this.#seen += 1;
    if (this.#send === undefined) return;
    learnNodeType(event, this.#nodeTypes);
    const now = Date.now();
    if (!last && now - this.#sentAt < this.#intervalMs) return;
    this.#sentAt = now;
    // A notification that cannot be sent (the client went away) must not fail the call.
    const sent = this.#send(this.#seen, describeEvent(event, this.#nodeTypes), this.#runId).catch(
      () => undefined,
    );
    if (signal === undefined) return sent;
    signal.throwIfAborted();
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([sent, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}
