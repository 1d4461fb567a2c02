// A newcomer's conformant Run Gateway: runs end on their own, cancels stick, unknown ids are 404s,
// and a run's event stream replays its log and ends after run_completed. The test checks it with
// `npx arp-conformance check run-gateway --tier deep --allow-mutations --strict`.
// Prints its URL on the first line, and stops when stdin closes.
import { randomUUID } from "node:crypto";
import type { Run, RunEvent } from "@arp/client";
import { BaseRunGatewayServer, notFound, type RunGatewayRequests } from "@arp/server";

type Req<K extends keyof RunGatewayRequests> = RunGatewayRequests[K];
type Ending = "succeeded" | "canceled";

class Gateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, { run: Run; events: RunEvent[] }>();

  #append(entry: { run: Run; events: RunEvent[] }, type: RunEvent["type"], data?: Record<string, unknown>) {
    const event: RunEvent = {
      run_id: entry.run.run_id,
      seq: entry.events.length,
      type,
      time: new Date().toISOString(),
      ...(data === undefined ? {} : { data }),
    };
    entry.events.push(event);
    return event;
  }

  #finish(runId: string, state: Ending): void {
    const entry = this.runs.get(runId);
    if (entry === undefined || entry.run.state !== "running") return;
    entry.run.state = state;
    entry.run.ended_at = this.#append(entry, "run_completed", { state }).time;
  }

  #entry(runId: string) {
    const entry = this.runs.get(runId);
    if (entry === undefined) throw notFound(`no run ${runId}`);
    return entry;
  }

  startRun(_req: Req<"startRun">): Run {
    const run: Run = {
      run_id: `run_${randomUUID()}`,
      state: "running",
      root_node_run_id: `nr_${randomUUID()}`,
    };
    const entry = { run, events: [] as RunEvent[] };
    this.runs.set(run.run_id, entry);
    run.started_at = this.#append(entry, "run_started").time;
    setTimeout(() => this.#finish(run.run_id, "succeeded"), 300).unref();
    return run;
  }

  getRun(req: Req<"getRun">): Run {
    return this.#entry(req.params.run_id).run;
  }

  cancelRun(req: Req<"cancelRun">): Run {
    this.#finish(this.#entry(req.params.run_id).run.run_id, "canceled");
    return this.#entry(req.params.run_id).run;
  }

  // Not a generator itself: an unknown run is a 404 before the stream starts.
  override streamRunEvents(req: Req<"streamRunEvents">): AsyncIterable<RunEvent> {
    const entry = this.#entry(req.params.run_id);
    return (async function* () {
      for (let next = 0; !req.signal.aborted; ) {
        while (next < entry.events.length) {
          const event = entry.events[next++]!;
          yield event;
          if (event.type === "run_completed") return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  }
}

const gateway = new Gateway({ serviceName: "newcomer", serviceVersion: "1.0.0", auth: { mode: "disabled" } });
const { url, close } = await gateway.listen({ port: 0, host: "127.0.0.1" });
process.stdout.write(`${url}\n`);
process.stdin.resume();
process.stdin.on("end", () => void close());
