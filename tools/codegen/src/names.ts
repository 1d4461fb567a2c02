/** How spec names become TypeScript names: types, constants, methods. */

export function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** `RunGateway` → `RUN_GATEWAY`. */
export function constantCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export function camelCase(text: string): string {
  const p = pascalCase(text);
  return p[0]!.toLowerCase() + p.slice(1);
}
