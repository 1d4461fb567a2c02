// Records in package-lock.json the platform-specific optional packages that the registry this
// project is installed from does not carry (it serves linux-x64 builds only), so that `npm ci`
// accepts the lockfile. npm 11 puts every optionalDependency in its ideal tree, so a missing
// entry fails `npm ci` ("Missing: @rollup/rollup-darwin-arm64@ from lock file") even though the
// package could never be installed on this platform anyway. Each added entry carries the `os`
// and `cpu` its name states, so npm skips it everywhere but on its own platform.
//
// Run after any `npm install` that changes the lockfile: `node scripts/lockfile-optional-platforms.mjs`
// (`--check` only reports, exit 1 when an entry is missing). A test runs the check.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const lockPath = fileURLToPath(new URL("../package-lock.json", import.meta.url));
const OS = [
  "aix",
  "android",
  "darwin",
  "freebsd",
  "linux",
  "netbsd",
  "openbsd",
  "openharmony",
  "sunos",
  "win32",
];
const CPU = {
  arm64: "arm64",
  x64: "x64",
  ia32: "ia32",
  arm: "arm",
  ppc64: "ppc64",
  riscv64: "riscv64",
  s390x: "s390x",
  loong64: "loong64",
  mips64el: "mips64el",
};

/** `@rollup/rollup-linux-arm64-musl` → { os: ["linux"], cpu: ["arm64"], libc: ["musl"] }. */
export function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os =
    parts.find((p) => OS.includes(p)) ??
    (parts.includes("windows") ? "win32" : parts.includes("macos") ? "darwin" : undefined);
  const cpuPart = parts.find(
    (p) => p in CPU || p === "gnueabihf" || p === "musleabihf" || p === "32" || p === "64",
  );
  let cpu = cpuPart && CPU[cpuPart];
  if (!cpu && parts.includes("arm")) cpu = "arm";
  if (!cpu && parts.includes("64")) cpu = parts.includes("arm") ? "arm64" : "x64";
  // libc only means something on Linux ("gnu" in a Windows package name means MinGW).
  const isMusl = parts.some((p) => p.startsWith("musl"));
  const isGnu = parts.some((p) => p.startsWith("gnu"));
  const libc = os !== "linux" ? undefined : isMusl ? "musl" : isGnu ? "glibc" : undefined;
  return { os, cpu, libc };
}

export function missingEntries(lock) {
  const out = new Map();
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
      const nested = `${path ? `${path}/` : ""}node_modules/${name}`;
      if (lock.packages[nested] || lock.packages[`node_modules/${name}`] || out.has(`node_modules/${name}`))
        continue;
      const { os, cpu, libc } = platformOf(name);
      if (!os || !cpu)
        throw new Error(`cannot tell the platform of optional dependency ${name} (of ${path})`);
      out.set(`node_modules/${name}`, {
        version: range,
        ...(entry.dev ? { dev: true } : {}),
        optional: true,
        os: [os],
        cpu: [cpu],
        ...(libc ? { libc: [libc] } : {}),
      });
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lock = JSON.parse(readFileSync(lockPath, "utf8"));
  const missing = missingEntries(lock);
  if (process.argv.includes("--check")) {
    for (const key of missing.keys()) console.error(`missing optional platform entry: ${key}`);
    if (missing.size) console.error("Fix: node scripts/lockfile-optional-platforms.mjs");
    process.exit(missing.size ? 1 : 0);
  }
  for (const [key, value] of missing) lock.packages[key] = value;
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
  );
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`lockfile: added ${missing.size} optional platform entries`);
}
