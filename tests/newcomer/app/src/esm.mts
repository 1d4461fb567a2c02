// A newcomer's first ARP program, as an ES module: a Run Gateway service and a client that calls it.
// Only @arp/client and @arp/server are installed by name: the model types come with the client.
import { ArpApiError, type Run, type RunEvent, RunGatewayClient } from "@arp/client";
import { BaseRunGatewayServer, notFound, type RunGatewayRequests } from "@arp/server";

type Req<K extends keyof RunGatewayRequests> = RunGatewayRequests[K];

class Gateway extends BaseRunGatewayServer {
  readonly runs = new Map<string, Run>();

  startRun(req: Req<"startRun">): Run {
    const run: Run = { run_id: req.body.run_id ?? "run_esm", state: "queued", root_node_run_id: "nr_root" };
    this.runs.set(run.run_id, run);
    return run;
  }

  getRun(req: Req<"getRun">): Run {
    const run = this.runs.get(req.params.run_id);
    if (!run) throw notFound(`no run ${req.params.run_id}`);
    return run;
  }

  cancelRun(req: Req<"cancelRun">): Run {
    const run = this.getRun(req);
    run.state = "canceled";
    return run;
  }

  override async *streamRunEvents(req: Req<"streamRunEvents">): AsyncIterable<RunEvent> {
    const time = new Date().toISOString();
    yield { run_id: req.params.run_id, seq: 0, type: "run_started", time };
    yield { run_id: req.params.run_id, seq: 1, type: "run_completed", time };
    // A live server keeps the connection open; the client ends the stream after run_completed.
    await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
  }
}

const gateway = new Gateway({ serviceName: "newcomer", serviceVersion: "1.0.0", auth: { mode: "disabled" } });
const { url, close } = await gateway.listen({ port: 0, host: "127.0.0.1" });
try {
  const client = new RunGatewayClient({ baseUrl: url });
  const started = await client.startRun({
    root_node_type_ref: { node_type_id: "com.example.echo", version: "1.0.0" },
    input: { text: "hello" },
  });
  await client.cancelRun(started.run_id);
  const final = await client.getRun(started.run_id);
  let missing = "";
  try {
    await client.getRun("run_nope");
  } catch (err) {
    if (err instanceof ArpApiError) missing = `${err.status} ${err.code}`;
  }
  const health = await client.health();
  const events: string[] = [];
  for await (const event of client.streamRunEvents(started.run_id)) events.push(event.type);
  console.log(
    JSON.stringify({
      module: "esm",
      events,
      started: started.state,
      final: final.state,
      missing,
      health: health.status,
    }),
  );
} finally {
  await close();
}
