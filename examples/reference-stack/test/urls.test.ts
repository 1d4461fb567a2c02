import { SERVICES } from "@arp/model";
import { describe, expect, it } from "vitest";
import { DEFAULT_PORTS, peerUrl, SERVICE_KEYS, urlVariable } from "../src/urls.js";

describe("urls", () => {
  it("names every service of the operation tables, each on its own default port", () => {
    expect([...SERVICE_KEYS].sort()).toEqual(Object.keys(SERVICES).sort());
    expect(new Set(Object.values(DEFAULT_PORTS)).size).toBe(SERVICE_KEYS.length);
  });

  it("a peer without a URL is an error that says how to give one", () => {
    expect(urlVariable("run-coordinator")).toBe("ARP_RUN_COORDINATOR_URL");
    expect(peerUrl({ pdp: "http://127.0.0.1:8086/" }, "pdp")).toBe("http://127.0.0.1:8086");
    expect(() => peerUrl({}, "node-registry")).toThrow(
      "no URL for the node-registry service: pass --node-registry-url or set ARP_NODE_REGISTRY_URL",
    );
  });
});
