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

/**
 * The ports fetch refuses to connect to, whatever listens there: the "bad ports" of the WHATWG
 * Fetch Standard, § 2.9 Port blocking (https://fetch.spec.whatwg.org/#port-blocking), as of
 * 2024 (4190 the latest addition). Node's fetch (undici) blocks exactly these, with a bare
 * `fetch failed: bad port`; the checker says so before sending anything.
 */
export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * `url` when it can be checked: an http(s) URL on a port fetch does not block. Throws
 * {@link UsageError} naming `label` (`--url`, `--pdp-url`, `url`) otherwise.
 */
export function checkUrl(url: string, label: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${label} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`${label} must be an http(s) URL, not ${url}`);
  }
  // `port` is "" for the scheme's default port (80, 443), which is never blocked.
  if (parsed.port !== "" && FETCH_BAD_PORTS.has(Number(parsed.port))) {
    throw new UsageError(
      `${label} uses port ${parsed.port}, which fetch refuses to connect to (a "bad port" of the WHATWG Fetch Standard, blocked because other protocols use it: https://fetch.spec.whatwg.org/#port-blocking); run the service on another port: ${url}`,
    );
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
