/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The run viewer's page: `GET config.json` says where the Run Gateway is (and, with a secure stack,
 * gives a token for it); then everything goes to the gateway through `@arp/client`, from the
 * browser (the gateway allows this page's origin, CORS). Start a workflow (or a pasted
 * RunStartRequest, checked with `@arp/model`'s validator first), watch its tree fill in from the
 * event stream, cancel it; `#run=<id>` (or the Open box) replays any run's stream from the start.
 * The picker lists the built-in workflows, then those `config.json` adds (`workflows`: a stack's MCP
 * tools, under "MCP tools"), read once when the page loads: reload it for a changed tool list.
 */
import { ArpApiError, ArpError, RunGatewayClient, type RunStartRequest } from "@arp/client";
import { assertRunStartRequest, ValidationError } from "@arp/model";
import { applyEvent, isTerminal, newRun, type RunView } from "./model.js";
import { el, fill, RunPanel } from "./view.js";
import { extraWorkflows, WORKFLOWS } from "./workflows.js";

interface Config {
  gateway: string;
  token?: string;
  token_expires_at?: number;
  workflows?: unknown;
}

function $<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

async function loadConfig(): Promise<Config> {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json answered HTTP ${res.status}`);
  const body = (await res.json()) as Partial<Config>;
  if (typeof body.gateway !== "string") throw new Error("config.json has no gateway URL");
  return body as Config;
}

/** What went wrong, in one line, for the page. */
export function describeError(error: unknown): string {
  if (error instanceof ArpApiError) {
    const details = error.details === undefined ? "" : ` ${JSON.stringify(error.details)}`;
    return `${error.status} ${error.code}: ${error.message}${details}`;
  }
  if (error instanceof ArpError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function hashRunId(): string | undefined {
  const match = /^#run=(.+)$/.exec(location.hash);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const message = $("message");
  const say = (text: string, isError = false) => {
    message.textContent = text;
    message.classList.toggle("error", isError);
  };
  const panel = new RunPanel({
    runTitle: $("run-title"),
    runState: $("run-state"),
    runInfo: $("run-info"),
    tree: $<HTMLUListElement>("tree"),
    details: $("details"),
    events: $<HTMLOListElement>("events"),
    eventCount: $("event-count"),
  });
  const workflow = $<HTMLSelectElement>("workflow");
  const request = $<HTMLTextAreaElement>("request");
  const requestErrors = $("request-errors");
  const startButton = $<HTMLButtonElement>("start-run");
  const cancelButton = $<HTMLButtonElement>("cancel-run");
  const openForm = $<HTMLFormElement>("open-form");
  const openId = $<HTMLInputElement>("open-id");

  let config: Config;
  try {
    config = await loadConfig();
  } catch (error) {
    say(`cannot read config.json: ${describeError(error)}`, true);
    return;
  }
  $("gateway").textContent = config.gateway;
  let token = config.token;
  let tokenExpires = config.token_expires_at ?? 0;
  const bearerToken = async () => {
    if (Date.now() > tokenExpires - 60_000) {
      const fresh = await loadConfig();
      token = fresh.token;
      tokenExpires = fresh.token_expires_at ?? 0;
    }
    return token ?? "";
  };
  const gateway = new RunGatewayClient({
    baseUrl: config.gateway,
    timeoutMs: 15_000,
    ...(config.token === undefined ? {} : { bearerToken }),
  });

  let current: { run: RunView; abort: AbortController } | undefined;
  const updateCancel = () => {
    cancelButton.disabled = current === undefined || isTerminal(current.run.state);
  };

  async function openRun(runId: string): Promise<void> {
    current?.abort.abort();
    const run = newRun(runId);
    const abort = new AbortController();
    current = { run, abort };
    panel.show(run);
    openId.value = runId;
    if (hashRunId() !== runId) history.pushState(null, "", `#run=${encodeURIComponent(runId)}`);
    updateCancel();
    say(`following the events of run ${runId}…`);
    try {
      // No idle bound: a node may work for a long time without an event.
      for await (const event of gateway.streamRunEvents(runId, { signal: abort.signal, idleTimeoutMs: 0 })) {
        panel.changed(applyEvent(run, event));
        updateCancel();
      }
      say(`run ${runId} ${run.state}: ${run.events.length} events`, run.state === "failed");
    } catch (error) {
      if (abort.signal.aborted) return; // another run is shown now
      say(`the events of run ${runId}: ${describeError(error)}`, true);
    } finally {
      if (current?.run === run) updateCancel();
    }
  }

  // The built-in workflows, then config.json's, each group in an <optgroup>; labels are text only
  // (a tool's description is whatever its MCP server said).
  const workflows = [...WORKFLOWS, ...extraWorkflows(config.workflows, new Set(WORKFLOWS.map((w) => w.id)))];
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const w of workflows) {
    const option = el("option", undefined, w.label);
    option.value = w.id;
    if (w.group === undefined) {
      workflow.append(option);
      continue;
    }
    let group = groups.get(w.group);
    if (group === undefined) {
      group = el("optgroup");
      group.label = w.group;
      groups.set(w.group, group);
      workflow.append(group);
    }
    group.append(option);
  }
  const fillRequest = () => {
    const chosen = workflows.find((w) => w.id === workflow.value) ?? workflows[0]!;
    request.value = JSON.stringify(chosen.request, null, 2);
    fill(requestErrors);
  };
  workflow.addEventListener("change", fillRequest);
  fillRequest();

  startButton.addEventListener("click", async () => {
    fill(requestErrors);
    const problems = (lines: string[]) => fill(requestErrors, ...lines.map((l) => el("li", undefined, l)));
    let value: unknown;
    try {
      value = JSON.parse(request.value);
    } catch (error) {
      problems([`not JSON: ${(error as Error).message}`]);
      return;
    }
    let body: RunStartRequest;
    try {
      assertRunStartRequest(value);
      body = value;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const lines = error.errors.map((i) => `${i.pointer === "" ? "(the request)" : i.pointer} ${i.message}`);
      if (error.truncated) lines.push("… (validation stopped there)");
      problems(["not a valid RunStartRequest:", ...lines]);
      return;
    }
    startButton.disabled = true;
    try {
      const run = await gateway.startRun(body);
      void openRun(run.run_id);
    } catch (error) {
      problems([`the gateway refused it: ${describeError(error)}`]);
    } finally {
      startButton.disabled = false;
    }
  });

  cancelButton.addEventListener("click", async () => {
    const run = current?.run;
    if (run === undefined) return;
    cancelButton.disabled = true;
    try {
      const canceled = await gateway.cancelRun(run.run_id);
      say(`cancel sent: run ${canceled.run_id} is ${canceled.state}`);
    } catch (error) {
      say(`cancel: ${describeError(error)}`, true);
      updateCancel();
    }
  });

  openForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = openId.value.trim();
    if (id !== "") void openRun(id);
  });
  window.addEventListener("hashchange", () => {
    const id = hashRunId();
    if (id !== undefined && id !== current?.run.run_id) void openRun(id);
  });

  const fromHash = hashRunId();
  if (fromHash !== undefined) void openRun(fromHash);
  else say("Start a workflow, or open a run by its id.");
  document.body.dataset.ready = "true";
}

main().catch((error: unknown) => {
  const message = document.getElementById("message");
  if (message !== null) {
    message.textContent = `the viewer failed: ${describeError(error)}`;
    message.classList.add("error");
  }
});
