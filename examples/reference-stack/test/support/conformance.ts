/** `arp-conformance check <service> --tier deep --allow-mutations --strict`, in process. */
import { type CheckReport, type Fixtures, runConformance } from "@arp/conformance";
import type { ServiceKey } from "../../src/urls.js";

export function checkDeep(
  service: ServiceKey,
  url: string,
  fixtures?: Partial<Fixtures>,
): Promise<CheckReport> {
  return runConformance({
    service,
    url,
    tier: "deep",
    allowMutations: true,
    strict: true,
    pollIntervalMs: 50,
    ...(fixtures === undefined ? {} : { fixtures }),
  });
}
