// The same program as CommonJS: `import x = require(...)` is how a .cts file imports under
// verbatimModuleSyntax, and it loads the packages' `require` builds and their .d.cts types.
import arpClient = require("@arp/client");
import arpServer = require("@arp/server");

type Run = arpClient.Run;
type RunEvent = arpClient.RunEvent;
type Req<K extends keyof arpServer.RunGatewayRequests> = arpServer.RunGatewayRequests[K];

class Gateway extends arpServer.BaseRunGatewayServer {
  readonly runs = new Map<string, Run>();

  startRun(req: Req<"startRun">): Run {
    const run: Run = { run_id: req.body.run_id ?? "run_cjs", state: "queued", root_node_run_id: "nr_root" };
    this.runs.set(run.run_id, run);
    return run;
  }

  getRun(req: Req<"getRun">): Run {
    const run = this.runs.get(req.params.run_id);
    if (!run) throw arpServer.notFound(`no run ${req.params.run_id}`);
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
    await new Promise((resolve) => req.signal.addEventListener("abort", resolve, { once: true }));
  }
}

async function main(): Promise<void> {
  const gateway = new Gateway({
    serviceName: "newcomer",
    serviceVersion: "1.0.0",
    auth: { mode: "disabled" },
  });
  const { url, close } = await gateway.listen({ port: 0, host: "127.0.0.1" });
  try {
    const client = new arpClient.RunGatewayClient({ baseUrl: url });
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
      if (err instanceof arpClient.ArpApiError) missing = `${err.status} ${err.code}`;
    }
    const health = await client.health();
    const events: string[] = [];
    for await (const event of client.streamRunEvents(started.run_id)) events.push(event.type);
    console.log(
      JSON.stringify({
        module: "cjs",
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
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
