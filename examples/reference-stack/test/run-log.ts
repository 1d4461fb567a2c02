/** Shared by the load and fault tests: a stack on OS-chosen ports, and a run's log as the gateway streams it. */
import type * as T from "@arp/model";
import { isRunEvent } from "@arp/model";
import { SERVICE_KEYS, type ServiceKey } from "../src/urls.js";

export const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0])) as Record<ServiceKey, number>;
export const QUIET = { warn: () => undefined, error: () => undefined };

/**
 * A run's events, read from the gateway's stream (`GET /v1/runs/{id}/events`) to its end on one
 * connection. Read as raw NDJSON rather than through `RunGatewayClient`, which skips an event whose
 * `seq` it has seen: here every line counts, so a repeat or a reordering shows. Each line must be a
 * valid RunEvent.
 */
export async function readRunLog(gateway: string, runId: string, signal: AbortSignal): Promise<T.RunEvent[]> {
  // A signal of this read's own: fetch's listener on the one given (shared by thousands of reads in
  // the load tests) would stay until the request is garbage-collected.
  const own = new AbortController();
  const abort = () => own.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  let text: string;
  try {
    const response = await fetch(`${gateway}/v1/runs/${encodeURIComponent(runId)}/events`, {
      signal: own.signal,
    });
    text = await response.text();
    if (!response.ok) throw new Error(`stream of ${runId}: HTTP ${response.status} ${text}`);
  } finally {
    signal.removeEventListener("abort", abort);
  }
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return lines.map((line) => {
    const event: unknown = JSON.parse(line);
    if (!isRunEvent(event)) throw new Error(`stream of ${runId}: not a RunEvent: ${line}`);
    return event;
  });
}

/**
 * What is wrong with a run's whole log (nothing: `[]`): seq 0, 1, 2, ... without a gap or a repeat,
 * all of this run, `run_started` first, `run_completed` last and only there, in state `state`.
 */
export function logProblems(events: readonly T.RunEvent[], runId: string, state: T.RunState): string[] {
  const problems: string[] = [];
  const seqs = events.map((e) => e.seq);
  if (!seqs.every((s, n) => s === n)) problems.push(`${runId}: seqs ${seqs.join(",")}`);
  if (events.some((e) => e.run_id !== runId)) problems.push(`${runId}: an event of another run`);
  if (events[0]?.type !== "run_started") problems.push(`${runId}: first event ${events[0]?.type}`);
  const last = events.at(-1);
  if (last?.type !== "run_completed") problems.push(`${runId}: last event ${last?.type}`);
  else if (last.data?.state !== state) {
    problems.push(`${runId}: ended ${String(last.data?.state)} ${JSON.stringify(last.data?.error ?? {})}`);
  }
  const completed = events.filter((e) => e.type === "run_completed").length;
  if (completed !== 1) problems.push(`${runId}: ${completed} run_completed events`);
  return problems;
}

/** The node run ids the events name, in the order they first appear. */
export function nodeRunIds(events: readonly T.RunEvent[]): string[] {
  return [...new Set(events.flatMap((e) => (e.node_run_id === undefined ? [] : [e.node_run_id])))];
}
