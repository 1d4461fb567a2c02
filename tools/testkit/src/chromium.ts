/** Headless Chromium for the browser tests: Debian's `chromium`, driven by playwright-core. */
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** As the machines' notes say: without the background-networking flags this closed network refuses Chromium. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
