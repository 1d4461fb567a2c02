/**
 * One tool call, one ARP run: the arguments are checked against the tool's input schema, the run is
 * started through the gateway (with a `run_id` of our own, so that `startRun` may be retried), its
 * event stream is followed (the client resumes a dropped stream) into progress notifications, and
 * its end becomes the call's result: the root node run's outputs as `structuredContent` and as JSON
 * text, or `isError` with the ARP error. The caller's abort (MCP `notifications/cancelled`) or the
 * call's deadline cancels the run at the gateway.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { ArpApiError, ArpError, type RunCoordinatorClient, type RunGatewayClient } from "@arp/client";
import type { Run, RunEvent, RunState } from "@arp/model";
import type { Logger } from "@arp/server";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ProgressReporter, type SendProgress } from "./progress.js";
import { type NodeTypeTool, RUN_META_KEY } from "./tools.js";
import type { SchemaChecker } from "./validation.js";

export interface RunToolDeps {
  gateway: RunGatewayClient;
  /** Reads the root node run when the events do not carry its whole outputs (optional). */
  coordinator: RunCoordinatorClient | undefined;
  checker: SchemaChecker;
  logger: Logger;
  /** 0 or Infinity: no deadline. */
  callTimeoutMs: number;
  cancelTimeoutMs: number;
  progressIntervalMs: number;
  /** How often `getRun` is polled when the gateway has no event stream (501). */
  pollIntervalMs: number;
}

export interface CallContext {
  /** The MCP request's signal: aborts on `notifications/cancelled` or when the session ends. */
  signal: AbortSignal;
  /** Undefined when the caller gave no `progressToken`. */
  progress: SendProgress | undefined;
}

const TERMINAL: ReadonlySet<RunState> = new Set(["succeeded", "failed", "canceled"]);

/** What the run's log says about its end: `run_completed`, and the root node run's own end event. */
interface RunEnd {
  completed: RunEvent | undefined;
  rootEnd: RunEvent | undefined;
  /** False when the gateway has no event stream: the outputs are not in any event. */
  streamed: boolean;
}

/** A tool error: the code and message as text, the run (when there is one) in `_meta`. */
function toolError(code: string, message: string, run?: Record<string, unknown>): CallToolResult {
  return {
    isError: true,
    content: [{ type: "text", text: `${code}: ${message}` }],
    ...(run === undefined ? {} : { _meta: { [RUN_META_KEY]: run } }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The reference coordinator's marker for a value left out of an event (`{ truncated: true, bytes }`). */
function isTruncated(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 2 && value.truncated === true && typeof value.bytes === "number";
}

export async function runTool(
  entry: NodeTypeTool,
  args: Record<string, unknown>,
  context: CallContext,
  deps: RunToolDeps,
): Promise<CallToolResult> {
  const name = entry.tool.name;
  const invalid = deps.checker.problems(entry.inputSchema, args);
  if (invalid !== undefined)
    return toolError("invalid_arguments", `the arguments do not match ${name}'s input schema: ${invalid}`);

  const controller = new AbortController();
  const abort = () => controller.abort(context.signal.reason);
  if (context.signal.aborted) abort();
  else context.signal.addEventListener("abort", abort, { once: true });
  const deadline =
    deps.callTimeoutMs > 0 && Number.isFinite(deps.callTimeoutMs)
      ? setTimeout(() => controller.abort(new Error("deadline")), deps.callTimeoutMs)
      : undefined;
  const signal = controller.signal;
  const runId = `mcp-${randomUUID()}`;
  /** How far the run got: `starting` (it may not exist), `running`, `ended` (its stream said so). */
  let phase: "starting" | "running" | "ended" = "starting";
  try {
    await deps.gateway.startRun({ run_id: runId, root_node_type_ref: entry.ref, input: args }, { signal });
    phase = "running";
    const end = await followRun(runId, context.progress, signal, deps);
    phase = "ended";
    const run = await deps.gateway.getRun(runId, { signal });
    return await result(entry, run, end, signal, deps);
  } catch (err) {
    if (signal.aborted) {
      const byCaller = context.signal.aborted;
      // Even an abort during startRun: the run may exist though its answer was cut.
      const canceled = await cancel(runId, deps);
      const what = `ARP run ${runId} ${canceled ? "was canceled" : "could not be canceled (see the server's log)"}`;
      return byCaller
        ? toolError("canceled", `the MCP client canceled the call; ${what}`, { run_id: runId })
        : toolError("deadline_exceeded", `no result within ${deps.callTimeoutMs} ms; ${what}`, {
            run_id: runId,
          });
    }
    if (!(err instanceof ArpError)) throw err;
    // A call that reports a failure must not leave its run going (the client may well call again):
    // unless the gateway refused the start outright (a 4xx: no run), a run not known to have ended
    // is canceled, as for an abort.
    const refused = phase === "starting" && err instanceof ArpApiError && err.status < 500;
    if (phase === "ended" || refused) return toolError(err.code, err.message, { run_id: runId });
    const canceled = await cancel(runId, deps);
    const what = `ARP run ${runId} ${canceled ? "was canceled" : "could not be canceled (see the server's log)"}`;
    return toolError(err.code, `${err.message}; ${what}`, { run_id: runId });
  } finally {
    clearTimeout(deadline);
    context.signal.removeEventListener("abort", abort);
  }
}

/** Follows the run's stream to `run_completed`; a gateway without streams (501) is polled instead. */
async function followRun(
  runId: string,
  send: SendProgress | undefined,
  signal: AbortSignal,
  deps: RunToolDeps,
): Promise<RunEnd> {
  const progress = new ProgressReporter(send, runId, deps.progressIntervalMs);
  const end: RunEnd = { completed: undefined, rootEnd: undefined, streamed: true };
  let rootNodeRunId: string | undefined;
  try {
    for await (const event of deps.gateway.streamRunEvents(runId, { signal })) {
      if (event.type === "run_started" && typeof event.data?.root_node_run_id === "string")
        rootNodeRunId = event.data.root_node_run_id;
      const state = event.data?.state;
      if (
        event.node_run_id !== undefined &&
        event.node_run_id === rootNodeRunId &&
        typeof state === "string"
      ) {
        if (TERMINAL.has(state as RunState)) end.rootEnd = event;
      }
      const last = event.type === "run_completed";
      await progress.event(event, last, signal);
      if (last) end.completed = event;
    }
    return end;
  } catch (err) {
    if (!(err instanceof ArpApiError && err.status === 501)) throw err;
  }
  end.streamed = false;
  for (;;) {
    const run = await deps.gateway.getRun(runId, { signal });
    if (TERMINAL.has(run.state)) return end;
    await delay(deps.pollIntervalMs, undefined, { signal });
  }
}

async function result(
  entry: NodeTypeTool,
  run: Run,
  end: RunEnd,
  signal: AbortSignal,
  deps: RunToolDeps,
): Promise<CallToolResult> {
  // `run_completed` first, then the root node run's own end event: ARP does not fix which one says.
  const completed = end.completed?.data ?? {};
  const rootEnd = end.rootEnd?.data ?? {};
  const meta = { run_id: run.run_id, state: run.state };
  if (run.state !== "succeeded") {
    const error = isObject(completed.error)
      ? completed.error
      : isObject(rootEnd.error)
        ? rootEnd.error
        : undefined;
    const code = isObject(error) && typeof error.code === "string" ? error.code : `run_${run.state}`;
    const message =
      isObject(error) && typeof error.message === "string" ? error.message : `the ARP run ended ${run.state}`;
    return toolError(code, `ARP run ${run.run_id} ${run.state}: ${message}`, {
      ...meta,
      ...(error === undefined ? {} : { error }),
    });
  }
  let outputs = isObject(completed.outputs)
    ? completed.outputs
    : isObject(rootEnd.outputs)
      ? rootEnd.outputs
      : undefined;
  // The events cap what they carry: the whole outputs are the root node run's, at the coordinator.
  if (outputs === undefined || isTruncated(outputs) || !end.streamed) {
    if (deps.coordinator !== undefined) {
      const root = await deps.coordinator.getNodeRun(run.root_node_run_id, { signal });
      outputs = root.outputs ?? {};
    } else if (outputs !== undefined || !end.streamed) {
      return toolError(
        "outputs_unavailable",
        `ARP run ${run.run_id} succeeded, but its outputs are not in its events (${outputs === undefined ? "the gateway has no event stream" : "left out for their size"}); give the server a coordinatorUrl to read them`,
        meta,
      );
    }
  }
  outputs ??= {};
  if (entry.outputSchema !== undefined) {
    const problems = deps.checker.problems(entry.outputSchema, outputs);
    if (problems !== undefined)
      return toolError(
        "invalid_outputs",
        `ARP run ${run.run_id} succeeded, but its outputs do not match ${entry.tool.name}'s output schema: ${problems}`,
        meta,
      );
  }
  return {
    content: [{ type: "text", text: JSON.stringify(outputs) }],
    structuredContent: outputs,
    _meta: { [RUN_META_KEY]: meta },
  };
}

/** Cancels the run at the gateway, within `cancelTimeoutMs`; a failure is logged, not thrown. */
async function cancel(runId: string, deps: RunToolDeps): Promise<boolean> {
  try {
    await deps.gateway.cancelRun(runId, { timeoutMs: deps.cancelTimeoutMs });
    return true;
  } catch (err) {
    // 404: the run was never created (the start itself was cut); anything else is worth a line.
    if (err instanceof ArpApiError && err.status === 404) return true;
    deps.logger.warn(`arp-mcp: canceling ARP run ${runId} failed`, {
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
}
