/** Which services a `check` run targets: `check <service> --url U`, or `check all --<service>-url U ...`. */
import { SERVICES, type ServiceSpec } from "@arp/model";
import { UsageError } from "../errors.js";

export interface Target {
  readonly service: ServiceSpec;
  readonly url: string;
}

/** `--run-gateway-url`, ... one option per service key, in `SERVICES` order. */
export const SERVICE_URL_OPTIONS: readonly { key: string; option: string }[] = Object.keys(SERVICES).map(
  (key) => ({ key, option: `${key}-url` }),
);

function checkUrl(url: string, label: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${label} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`${label} must be an http(s) URL, not ${url}`);
  }
  return url;
}

/**
 * The targets of one run. `urls` maps service keys to the values of their `--<key>-url` options.
 * Throws {@link UsageError} for an unknown service or a missing, extra or malformed URL.
 */
export function resolveTargets(
  name: string | undefined,
  url: string | undefined,
  urls: Readonly<Record<string, string | undefined>>,
): Target[] {
  const given = SERVICE_URL_OPTIONS.filter(({ key }) => urls[key] !== undefined);
  const keys = Object.keys(SERVICES).join(", ");
  if (name === undefined) throw new UsageError(`missing service (one of ${keys}, or all)`);
  if (name === "all") {
    if (url !== undefined) throw new UsageError("check all takes --<service>-url options, not --url");
    if (given.length === 0) {
      throw new UsageError(
        `check all needs at least one of ${SERVICE_URL_OPTIONS.map((o) => `--${o.option}`).join(", ")}`,
      );
    }
    return given.map(({ key, option }) => ({
      service: SERVICES[key as keyof typeof SERVICES],
      url: checkUrl(urls[key]!, `--${option}`),
    }));
  }
  const service = (SERVICES as Record<string, ServiceSpec>)[name];
  if (service === undefined) throw new UsageError(`unknown service: ${name} (services: ${keys}, or all)`);
  if (given.length > 0) throw new UsageError(`--${given[0]!.option} is for check all; use --url`);
  if (url === undefined) throw new UsageError(`check ${name} needs --url`);
  return [{ service, url: checkUrl(url, "--url") }];
}
