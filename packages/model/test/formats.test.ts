/** Our ported formats must judge every string exactly like ajv-formats' "full" mode. */
import { fullFormats } from "ajv-formats/dist/formats.js";
import { describe, expect, it } from "vitest";
import { isDateTime, isUri } from "../src/index.js";

const DATE_TIMES = [
  "2026-01-15T09:30:00Z",
  "2026-01-15t09:30:00z",
  "2026-01-15T09:30:00.123456+01:00",
  "2026-01-15T09:30:00-0530",
  "2026-01-15 09:30:00Z",
  "2024-02-29T00:00:00Z",
  "2023-02-29T00:00:00Z",
  "1900-02-29T00:00:00Z",
  "2000-02-29T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "2026-04-31T00:00:00Z",
  "2026-01-15T24:00:00Z",
  "2026-01-15T23:59:60Z",
  "2026-01-15T22:59:60-01:00",
  "2026-01-15T23:58:60Z",
  "2026-01-15T09:30:00",
  "2026-01-15T09:30:00+24:00",
  "2026-01-15",
  "15/01/2026 09:30:00",
  "",
  "2026-01-15T09:30Z",
];

const URIS = [
  "http://127.0.0.1:43120",
  "https://example.com/a/b?c=d#e",
  "unix:///var/run/arp.sock",
  "urn:isbn:0451450523",
  "mailto:ops@example.com",
  "http://[::1]:8080/",
  "127.0.0.1:8080",
  "/relative/path",
  "//host:8443/x",
  "not a uri",
  "http://exa mple.com",
  "",
  "atomic-exec-1:8443/v1",
];

function formatCheck(name: "date-time" | "uri"): (s: string) => boolean {
  const f = fullFormats[name] as { validate: (s: string) => boolean } | ((s: string) => boolean);
  return typeof f === "function" ? f : f.validate;
}

describe("formats", () => {
  it.each(DATE_TIMES)("date-time %j agrees with ajv-formats", (s) => {
    expect(isDateTime(s)).toBe(formatCheck("date-time")(s));
  });
  it.each(URIS)("uri %j agrees with ajv-formats", (s) => {
    expect(isUri(s)).toBe(formatCheck("uri")(s));
  });
  it("accepts and rejects what RFC 3339 and RFC 3986 say", () => {
    expect(["2024-02-29T00:00:00Z", "2026-01-15T23:59:60Z"].every(isDateTime)).toBe(true);
    expect(["2023-02-29T00:00:00Z", "2026-01-15T09:30:00", "2026-01-15T23:58:60Z"].some(isDateTime)).toBe(
      false,
    );
    expect(isUri("http://127.0.0.1:43120")).toBe(true);
    expect(["127.0.0.1:8080", "/relative/path", "not a uri"].some(isUri)).toBe(false);
  });
});
