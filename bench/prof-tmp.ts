import { RunGatewayClient } from "@arp/client";
import { startStack } from "../examples/reference-stack/src/stack.js";
import { SERVICE_KEYS } from "../examples/reference-stack/src/urls.js";
const ANY_PORT = Object.fromEntries(SERVICE_KEYS.map((k) => [k, 0]));
const QUIET = { warn: () => undefined, error: () => undefined };
const ref = (id: string) => ({ node_type_id: `arp.ref.${id}`, version: "1.0.0" });
const pipeline = (i: number) => ({
  root_node_type_ref: ref("pipeline"),
  input: { input: { text: `bench run ${i}` }, steps: ["text.upper", "text.reverse", "text.word_count", "echo", "sha256"].map((id) => ({ node_type: ref(id) })) },
});
const stack = await startStack({ ports: ANY_PORT as never, logger: QUIET });
const gw = new RunGatewayClient({ baseUrl: stack.urls["run-gateway"] });
const N = Number(process.env.N ?? 200);
let next = 0;
const t = performance.now();
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < N) { const i = next++; const run = await gw.startRun(pipeline(i) as never);
    for await (const e of gw.streamRunEvents(run.run_id)) { if (e.type === "run_completed") break; } }
}));
const s = (performance.now() - t) / 1000;
console.log(`${N} runs in ${s.toFixed(1)} s: ${(N / s).toFixed(1)} runs/s`);
await stack.close();
