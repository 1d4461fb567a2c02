/**
 * The two string formats the ARP v1 schemas assert: `date-time` (RFC 3339, time zone required) and
 * `uri` (RFC 3986, absolute: a scheme is required).
 *
 * Ported from ajv-formats' "full" mode (MIT, Copyright (c) 2020 Evgeny Poberezkin) so that the
 * precompiled validators and a validator compiled at run time with ajv-formats agree on every input.
 * They live here, not in a dependency, so `@arp/model` has no runtime dependencies at all.
 */

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** The two ASCII digits at `i` and `i + 1` as a number (0-99), or -1. Past the end reads NaN → -1. */
function twoDigits(str: string, i: number): number {
  const hi = str.charCodeAt(i) - 48;
  const lo = str.charCodeAt(i + 1) - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `T`, `t`, or any code unit `/\s/` matches (ASCII and Unicode white space, line terminators, BOM). */
function isDateTimeSeparator(c: number): boolean {
  return (
    c === 0x54 || // T
    c === 0x74 || // t
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) || // \t \n \v \f \r
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The digits of 1 - 2^-48. For a whole part of 59 or 60, `Number("SS.fff")` rounds up to SS + 1
 * exactly when 0.fff >= this (half an ulp below SS + 1; a tie rounds to the even SS + 1).
 */
const ROUNDS_UP_FROM = "999999999999996447286321199499070644378662109375";

/** Whether the fraction digits in `str[start, end)` make `Number("SS.fff")` round up to SS + 1. */
function fractionRoundsUp(str: string, start: number, end: number): boolean {
  for (let k = 0; k < ROUNDS_UP_FROM.length; k++) {
    const d = start + k < end ? str.charCodeAt(start + k) : 48;
    const limit = ROUNDS_UP_FROM.charCodeAt(k);
    if (d !== limit) return d > limit;
  }
  return true; // equal to the limit so far; further digits can only add to it
}

/**
 * RFC 3339 `date-time` with a required offset, e.g. `2026-01-15T09:30:00Z` or
 * `2026-01-15T10:30:00.5+01:00`. Like ajv-formats, it also takes a space (or any white space) or a
 * lowercase `t` as the separator (RFC 3339 section 5.6 allows both) and an offset without a colon
 * (`+0100`).
 *
 * A scanner over `charCodeAt` that allocates nothing. It judges exactly like ajv-formats' `full`
 * check, `str.split(/t|\s/i)` into a `^(\d\d\d\d)-(\d\d)-(\d\d)$` date and a
 * `^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)$` time (case-insensitive): neither
 * part can hold a separator, so "exactly one separator" is the single one at index 10.
 */
export function isDateTime(str: string): boolean {
  const len = str.length;
  if (len < 20) return false; // the shortest is YYYY-MM-DDThh:mm:ssZ

  // YYYY-MM-DD, with the month's real length.
  const century = twoDigits(str, 0);
  const yy = twoDigits(str, 2);
  const month = twoDigits(str, 5);
  const day = twoDigits(str, 8);
  if (century < 0 || yy < 0 || str.charCodeAt(4) !== 0x2d || str.charCodeAt(7) !== 0x2d) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > (month === 2 && isLeapYear(century * 100 + yy) ? 29 : DAYS[month]!)) return false;

  if (!isDateTimeSeparator(str.charCodeAt(10))) return false;

  // hh:mm:ss, each 00-99 here: the range checks come last, as in ajv-formats.
  const hr = twoDigits(str, 11);
  const min = twoDigits(str, 14);
  const sec = twoDigits(str, 17);
  if (hr < 0 || min < 0 || sec < 0 || str.charCodeAt(13) !== 0x3a || str.charCodeAt(16) !== 0x3a) {
    return false;
  }

  // Optional fraction: `.` and at least one digit. Only for 59 and 60 can it decide a check below.
  let i = 19;
  let roundsUp = false;
  if (str.charCodeAt(i) === 0x2e) {
    const start = ++i;
    while (isDigit(str.charCodeAt(i))) i++;
    if (i === start) return false;
    if (sec === 59 || sec === 60) roundsUp = fractionRoundsUp(str, start, i);
  }

  // Required zone: `z`, `Z`, or `+hh`, `+hhmm`, `+hh:mm` (or `-`). A missing mm counts as 00.
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  const z = str.charCodeAt(i);
  if (z === 0x5a || z === 0x7a) {
    i++;
  } else if (z === 0x2b || z === 0x2d) {
    if (z === 0x2d) tzSign = -1;
    tzH = twoDigits(str, i + 1);
    if (tzH < 0) return false;
    i += 3;
    if (i < len) {
      if (str.charCodeAt(i) === 0x3a) i++;
      tzM = twoDigits(str, i);
      if (tzM < 0) return false;
      i += 2;
    }
  } else {
    return false;
  }
  if (i !== len || tzH > 23 || tzM > 59) return false;

  // `sec < 60` and `sec < 61` on the Number the regex version parses, fraction rounding included.
  const secBelow60 = sec < 59 || (sec === 59 && !roundsUp);
  if (hr <= 23 && min <= 59 && secBelow60) return true;
  // A leap second is only valid at 23:59:60 UTC (ajv-formats' arithmetic, hours and minutes unchecked).
  const secBelow61 = sec < 60 || (sec === 60 && !roundsUp);
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && secBelow61;
}

const NOT_URI_FRAGMENT = /\/|:/;
const URI =
  /^(?:[a-z][a-z0-9+\-.]*:)(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\d*)?(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\?(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$/i;

// Character classes for the fast path of `isUri`, as bits in a table over ASCII.
const SCHEME_START = 1; // ALPHA
const SCHEME = 2; // ALPHA / DIGIT / "+" / "-" / "."
const PATH = 4; // pchar (without pct-encoded) and "/"
const QUERY = 8; // PATH and "?": what the regex takes in a query or fragment
const HEX = 16;

const URI_CHARS = /* @__PURE__ */ uriCharTable();

function uriCharTable(): Uint8Array {
  const table = new Uint8Array(128);
  const mark = (chars: string, bits: number): void => {
    for (let k = 0; k < chars.length; k++) table[chars.charCodeAt(k)]! |= bits;
  };
  const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const digit = "0123456789";
  mark(alpha, SCHEME_START);
  mark(`${alpha}${digit}+-.`, SCHEME);
  // unreserved, sub-delims, ":" and "@" (= pchar), and "/"
  mark(`${alpha}${digit}-._~!$&'()*+,;=:@/`, PATH | QUERY);
  mark("?", QUERY);
  mark(`${digit}abcdefABCDEF`, HEX);
  return table;
}

/** The index of the first code unit at or after `i` that is neither in `mask` nor starts a `%XX`. */
function skipUriChars(str: string, i: number, len: number, mask: number): number {
  while (i < len) {
    const c = str.charCodeAt(i);
    if (c < 128 && (URI_CHARS[c]! & mask) !== 0) {
      i++;
      continue;
    }
    if (c === 0x25 && i + 2 < len) {
      // "%" and two hex digits
      const h1 = str.charCodeAt(i + 1);
      const h2 = str.charCodeAt(i + 2);
      if (h1 < 128 && h2 < 128 && (URI_CHARS[h1]! & URI_CHARS[h2]! & HEX) !== 0) {
        i += 3;
        continue;
      }
    }
    break;
  }
  return i;
}

/**
 * A fast, allocation-free check for the common shapes: `scheme ":" hier ["?" query] ["#" fragment]`
 * where `hier` is a NON-EMPTY run of pchar and "/" (so no `[` IP literal), e.g.
 * `https://host.example:8443/a/b?c=d#e`, `urn:isbn:0451450523`. Everything it accepts, `URI` accepts:
 * a `hier` starting with a pchar matches `URI`'s rootless-path branch, one starting with "/" and then
 * a pchar (or nothing) its absolute-path branch, and one starting with "//" its authority branch
 * with `\/?` empty, an empty reg-name and the rest as path segments. Query and fragment take the same
 * characters as in `URI`. Anything else is left to the regex.
 */
function isCommonUri(str: string): boolean {
  const len = str.length;
  if (len === 0) return false;
  let c = str.charCodeAt(0);
  if (c >= 128 || (URI_CHARS[c]! & SCHEME_START) === 0) return false;
  let i = 1;
  for (; i < len; i++) {
    c = str.charCodeAt(i);
    if (c >= 128 || (URI_CHARS[c]! & SCHEME) === 0) break;
  }
  if (i === len || c !== 0x3a) return false; // the scheme ends at the first ":"
  const hierStart = ++i;
  i = skipUriChars(str, i, len, PATH);
  if (i === hierStart) return false;
  if (i < len && str.charCodeAt(i) === 0x3f) i = skipUriChars(str, i + 1, len, QUERY); // "?"
  if (i < len && str.charCodeAt(i) === 0x23) i = skipUriChars(str, i + 1, len, QUERY); // "#"
  return i === len;
}

/**
 * RFC 3986 absolute URI, e.g. `http://127.0.0.1:43120` or `unix:///run/arp.sock`. Common shapes are
 * accepted by a scanner; the regex stays the authority for everything else (including all rejections).
 */
export function isUri(str: string): boolean {
  return isCommonUri(str) || (NOT_URI_FRAGMENT.test(str) && URI.test(str));
}

/**
 * Format name → check, in the shape ajv expects. The generated validators reference this object by
 * name (ajv's `code.formats` option), and `@arp/conformance` registers it when it compiles a spec
 * tree at run time, so both paths judge formats identically.
 */
export const formatValidators: Readonly<Record<"date-time" | "uri", (value: string) => boolean>> = {
  "date-time": isDateTime,
  uri: isUri,
};
