/**
 * openapi-typescript as an oracle for the generated `paths` types: it reads `spec/v1` on its own
 * (resolving the schema files itself), and a compiled check asserts that, for every operation of
 * every service, our `<Service>Paths` and its `paths` are assignable both ways: parameters, request
 * body, and each response's content. Our types name the `@arp/model` types instead of inlining
 * copies; this proves the two readings of the spec agree.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SERVICES } from "@arp/model";
import { typecheck } from "@arp/testkit";
import openapiTS, { astToString } from "openapi-typescript";
import { expect, it } from "vitest";

const pkgRoot = fileURLToPath(new URL("..", import.meta.url));
const specRoot = join(pkgRoot, "../../spec/v1/openapi");
const dir = join(pkgRoot, "test/consumer-oracle");

it("our paths types and openapi-typescript's agree on every operation, both ways", async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const checks: string[] = [
    'import type * as C from "@arp/client";',
    "/** True only when A and B are assignable to each other. */",
    "type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;",
    "declare function agree<T extends true>(): T;",
  ];
  let operations = 0;
  for (const service of Object.values(SERVICES)) {
    const source = pathToFileURL(join(specRoot, `${service.key}.openapi.yaml`));
    const oracle = astToString(await openapiTS(source));
    const module = `oracle-${service.key}`;
    writeFileSync(join(dir, `${module}.ts`), oracle);
    const alias = `O_${service.name}`;
    checks.push(`import type { paths as ${alias} } from "./${module}.js";`);
    for (const op of Object.values(service.operations)) {
      const method = op.method.toLowerCase();
      const ours = `C.${service.name}Paths[${JSON.stringify(op.path)}][${JSON.stringify(method)}]`;
      const theirs = `${alias}[${JSON.stringify(op.path)}][${JSON.stringify(method)}]`;
      const label = `${service.key} ${op.operationId}`;
      checks.push(`// ${label}`);
      checks.push(`agree<Mutual<${ours}["parameters"], ${theirs}["parameters"]>>();`);
      checks.push(`agree<Mutual<${ours}["requestBody"], ${theirs}["requestBody"]>>();`);
      const status = op.response.status;
      checks.push(
        `agree<Mutual<${ours}["responses"][${status}]["content"], ${theirs}["responses"][${status}]["content"]>>();`,
      );
      checks.push(
        `agree<Mutual<${ours}["responses"]["default"]["content"], ${theirs}["responses"]["default"]["content"]>>();`,
      );
      operations++;
    }
  }
  writeFileSync(join(dir, "agree.ts"), `${checks.join("\n")}\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          types: [],
        },
        include: ["*.ts"],
      },
      null,
      2,
    ),
  );
  expect(operations).toBe(36);
  typecheck(dir);
}, 60_000);
