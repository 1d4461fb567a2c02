// A CommonJS consumer: resolves the `require` condition and its `.d.cts` types.
import client = require("@arp/client");

const gateway = new client.RunGatewayClient({ baseUrl: "http://127.0.0.1:8080" });
const pending: Promise<import("@arp/model").Run> = gateway.getRun("run_1");
void pending.catch((err: unknown) => err instanceof client.ArpApiError);
