/** Our ported formats must judge every string exactly like ajv-formats' "full" mode. */

import { seededRandom } from "@arp/testkit";
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
  // Separators: exactly one, and any `\s` counts (Unicode spaces, line terminators, BOM too).
  "2026-01-15\u00a009:30:00Z",
  "2026-01-15\u202809:30:00Z",
  "2026-01-15\ufeff09:30:00Z",
  "2026-01-15\u180e09:30:00Z",
  "2026-01-15TT09:30:00Z",
  "2026-01-15T09:30:00Zt",
  "2026-01-15T09:30:00Z ",
  " 2026-01-15T09:30:00Z",
  "\uff12026-01-15T09:30:00Z",
  // Zones: a missing offset-minutes part counts as 00; the ranges apply to the offset too.
  "2026-01-15T09:30:00+01",
  "2026-01-15T09:30:00+01:",
  "2026-01-15T09:30:00+0100",
  "2026-01-15T09:30:00+01:0",
  "2026-01-15T09:30:00+01:000",
  "2026-01-15T09:30:00+23:59",
  "2026-01-15T09:30:00-00:60",
  "2026-01-15T09:30:00.Z",
  "2026-01-15T09:30:00.1234567890123456789012345z",
  "0000-02-29T00:00:00Z",
  // Leap seconds and ajv-formats' arithmetic for them (hours and minutes out of range included).
  "2026-01-15T00:00:60+00:01",
  "2026-01-15T00:59:60+01",
  "2026-01-15T24:59:00+01:00",
  "2026-01-15T23:59:60.5Z",
  "2026-01-15T23:59:61Z",
  // `Number("59.fff")` rounds up to 60 from 1 - 2^-48 on (a tie rounds to even, i.e. up).
  "2026-01-15T10:00:59.999999999999996447286321199499070644378662109375Z",
  "2026-01-15T10:00:59.999999999999996447286321199499070644378662109374Z",
  "2026-01-15T10:00:59.9999999999999964472863211994990706443786621093749999999999Z",
  "2026-01-15T10:00:59.99999999999999644728632119949907064437866210937500000001Z",
  "2026-01-15T10:00:59.9999999999999964Z",
  "2026-01-15T10:00:59.9999999999999965Z",
  "2026-01-15T10:00:58.99999999999999999999Z",
  "2026-01-15T23:59:60.999999999999996447286321199499070644378662109375Z",
  "2026-01-15T23:59:60.999999999999996447286321199499070644378662109374Z",
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
  "https://id.example.com/users/user_01J9ZP0A1B2C3D4E5F6G7H8J9K",
  "HTTP://EXAMPLE.COM/%7Euser/%7e?Q=%2F#%41",
  "http://user:pw@host:99/p;x=1/@:!$&'()*+,;=",
  "s:a?b/?c#d/?e",
  "s:a#b#c",
  "foo:",
  "foo:?q",
  "foo:#f",
  "a:/",
  "a://",
  "a:///",
  "a:////x",
  "http://a:b/",
  "http://h:/",
  "http://h:8a",
  "http://[::1",
  "http://[v1.fe]/",
  "http://h/%2",
  "http://h/%2G",
  "http://h/é",
  "http://h/p q",
  "1a:b",
  "+a:b",
  "x+y.z-1:rest",
];

/** Characters the mutations insert or replace with: the grammars' own, their neighbours, and others. */
const ALPHABET = [
  ..."0123456789-:.+TtZz /?#[]@%!$&'()*+,;=_~\"<>^`{|}",
  ..."abcdefvxyABCDEFVXY",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\u3000",
  "\ufeff",
  "\u180e",
  "\t",
  "\n",
  "\u0000",
  "\u00e9",
  "\u0130",
  "\u017f",
  "\u212a",
  "\uff10",
  "\u0663",
  "\ud83d\ude00",
  "\ud83d",
];

function fuzzer(seed: number) {
  const rand = seededRandom(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const pad2 = (n: number): string => String(n).padStart(2, "0");
  const digits = (n: number): string => Array.from({ length: n }, () => int(10)).join("");
  /** Zero to three random replacements, insertions or deletions (none for a third of the strings). */
  const mutate = (s: string): string => {
    const n = rand() < 0.34 ? 0 : 1 + int(3);
    for (let k = 0; k < n; k++) {
      const at = int(s.length + 1);
      const op = int(3);
      if (op === 0) s = s.slice(0, at) + pick(ALPHABET) + s.slice(at + 1);
      else if (op === 1) s = s.slice(0, at) + pick(ALPHABET) + s.slice(at);
      else s = s.slice(0, at) + s.slice(at + 1);
    }
    return s;
  };
  const dateTime = (): string => {
    const year = pick(["0000", "1900", "2000", "2024", "2023", "2026", "9999", digits(4)]);
    const month = rand() < 0.9 ? 1 + int(12) : int(14);
    const day = rand() < 0.5 ? 28 + int(5) : int(33);
    const sep = rand() < 0.7 ? "T" : pick(["t", " ", "\u00a0", "\u2028", "\t", "\ufeff", "\u3000", "\u180e"]);
    const hr = rand() < 0.7 ? int(24) : pick([0, 23, 24, 25, 99]);
    const min = rand() < 0.7 ? int(60) : pick([0, 58, 59, 60, 99]);
    const sec = rand() < 0.6 ? int(60) : pick([0, 58, 59, 60, 61, 99]);
    const frac = pick([
      "",
      "",
      `.${digits(1 + int(6))}`,
      `.${digits(1 + int(30))}`,
      `.${"9".repeat(1 + int(20))}${digits(int(4))}`,
      `.99999999999999644728632119949907064437866210937${pick(["4", "5", "6", "49", "50", "51"])}`,
    ]);
    const tzH = rand() < 0.8 ? int(24) : pick([23, 24, 99]);
    const tzM = rand() < 0.8 ? int(60) : pick([0, 1, 59, 60, 99]);
    const sign = pick(["+", "-"]);
    const zone = pick([
      "Z",
      "Z",
      "z",
      `${sign}${pad2(tzH)}:${pad2(tzM)}`,
      `${sign}${pad2(tzH)}${pad2(tzM)}`,
      `${sign}${pad2(tzH)}`,
      "",
    ]);
    return mutate(
      `${year}-${pad2(month)}-${pad2(day)}${sep}${pad2(hr)}:${pad2(min)}:${pad2(sec)}${frac}${zone}`,
    );
  };
  const segment = (): string =>
    pick([
      "users",
      "user_01J9ZP0A1B2C3D4E5F6G7H8J9K",
      "v1",
      "a%20b",
      "%7E",
      "%zz",
      "",
      "x:y",
      "@",
      "a;b=c",
      "~!",
    ]);
  const path = (): string => Array.from({ length: int(4) }, () => `/${segment()}`).join("");
  const uri = (): string => {
    const scheme = pick([
      "http",
      "https",
      "HTTPS",
      "urn",
      "mailto",
      "unix",
      "a",
      "x+y.z-1",
      "1http",
      "h_t",
      "",
    ]);
    const user = pick(["", "", "", "user@", "user:pw@", "u%41@", "@"]);
    const host = pick([
      "id.example.com",
      "localhost",
      "127.0.0.1",
      `${int(300)}.${int(300)}.${int(300)}.${int(300)}`,
      "[::1]",
      "[2001:db8::1]",
      "[::ffff:1.2.3.4]",
      "[v1.fe]",
      "exa mple",
      "",
    ]);
    const port = pick(["", "", ":", `:${int(65536)}`, ":8a"]);
    const hier = pick([
      () => `//${user}${host}${port}${path()}`,
      () => `//${user}${host}${port}${path()}`,
      () => `/${segment()}${path()}`,
      () => `${segment()}${path()}`,
      () => `///${segment()}`,
      () => "",
    ])();
    const query = pick(["", "", "?a=b&c=d", "?", "?x/y?z", "?%41=%2", "?q=é"]);
    const fragment = pick(["", "", "#frag", "#", "#a#b", "#/?x"]);
    return mutate(`${scheme}:${hier}${query}${fragment}`);
  };
  return { dateTime, uri };
}

/** A string as a JSON literal with everything outside printable ASCII escaped, so it reads unambiguously. */
function show(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Every string where `ours` and ajv-formats disagree (at most 20 shown), and how many ajv accepts. */
function differential(
  generate: () => string,
  ours: (s: string) => boolean,
  theirs: (s: string) => boolean,
  count: number,
): { mismatches: string[]; accepted: number } {
  const mismatches: string[] = [];
  let accepted = 0;
  for (let k = 0; k < count; k++) {
    const s = generate();
    const want = theirs(s);
    if (want) accepted++;
    if (ours(s) !== want && mismatches.length < 20) {
      mismatches.push(`${show(s)}: ours ${!want}, ajv-formats ${want}`);
    }
  }
  return { mismatches, accepted };
}

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

  const FUZZ_COUNT = 60_000;

  it.each([
    ["date-time", isDateTime, 0x5eed],
    ["uri", isUri, 0xfeed],
  ] as const)("%s agrees with ajv-formats on %#: generated near-grammar strings", (name, ours, seed) => {
    const gen = fuzzer(seed);
    const { mismatches, accepted } = differential(
      name === "date-time" ? gen.dateTime : gen.uri,
      ours,
      formatCheck(name),
      FUZZ_COUNT,
    );
    expect(mismatches).toEqual([]);
    // Both answers must be well represented, or the comparison proves little.
    expect(accepted).toBeGreaterThan(FUZZ_COUNT * 0.1);
    expect(accepted).toBeLessThan(FUZZ_COUNT * 0.85);
  });

  it("agrees with ajv-formats for every UTF-16 code unit at a few positions", () => {
    const dateTimes = ["2026-01-15#09:30:00Z", "2026-01-15T09:30:00#Z", "2026-01-15T23:59:60#+00:00"];
    const uris = ["http://h#/p?q#f", "h#:x", "http://h/p#", "u:/#", "u:#", "u:x?#", "u:x#y#"];
    const dt = formatCheck("date-time");
    const uri = formatCheck("uri");
    const mismatches: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const t of dateTimes) {
        const s = t.replace("#", ch);
        if (isDateTime(s) !== dt(s)) mismatches.push(show(s));
      }
      for (const t of uris) {
        const s = t.replace(/#(?!.*#)/, ch);
        if (isUri(s) !== uri(s)) mismatches.push(show(s));
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
  });
});
