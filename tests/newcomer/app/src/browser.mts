// The client in a web page: bundled with esbuild for the browser, it must pull in nothing Node-only.
import { RunGatewayClient } from "@arp/client";
import { isRun } from "@arp/model";

export async function startEcho(baseUrl: string): Promise<boolean> {
  const client = new RunGatewayClient({ baseUrl });
  const run = await client.startRun({
    root_node_type_ref: { node_type_id: "com.example.echo", version: "1.0.0" },
    input: { text: "hello from a page" },
  });
  return isRun(run);
}
