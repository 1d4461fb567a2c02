/**
 * Emits the precompiled validators: ajv's standalone code for every named schema, so nothing is
 * compiled when `@arp/model` is imported. The code is JavaScript (`validators.gen.js`) with a
 * declaration file beside it; TypeScript never has to type-check ajv's output.
 *
 * Layout (what keeps it tree-shakeable and fast): one `export const X = /* @__PURE__ *\/ ((...) => {
 * ... })(...)` per named schema. The closure holds that schema's ajv function and the constants it
 * uses; the validators of the schemas it `$ref`s come in as arguments, so a shared one (Extensions)
 * exists once, and a bundler drops every schema a program does not reach. Nothing on the validation
 * path is an ES-module binding: V8 runs the same code 3-5% slower when its functions and constants
 * are module-level bindings (measured in bench/validators.bench.ts).
 */
import { formatValidators, MAX_VALIDATION_ISSUES } from "@arp/model";
import { _, Ajv2020 } from "ajv/dist/2020.js";
import standalone from "ajv/dist/standalone/index.js";
import ts from "typescript";
import type { NamedSchemaIR } from "../ir/index.js";
import { type JsonObject, type LoadedSchema, stripAnnotations } from "../load.js";
import { header } from "./header.js";
import { CodeWriter } from "./writer.js";

/** The options shared by the generated validators and anyone who must match them (benchmarks, tests). */
// allErrors: report every issue, not only the first. inlineRefs false: a referenced schema is one
// shared function instead of a copy in every caller (the module is 15% smaller). messages false:
// `validation.ts` writes the messages from keyword and params.
export const AJV_OPTIONS = { allErrors: true, strict: true, inlineRefs: false, messages: false } as const;

/**
 * Makes every validator stop once it has found `limit` errors (`@arp/model`'s `MAX_VALIDATION_ISSUES`),
 * instead of walking the whole document: with `allErrors`, a body of 300k invalid items would otherwise
 * cost 300k error objects and seconds of CPU. After each statement where a function's `errors` count
 * grows (`errors++`, or `errors = vErrors.length` after a nested validator failed), this inserts
 * `if(errors >= limit){fn.errors = vErrors; return false;}`: the function returns, which also ends the
 * loop over array items or object keys it is in, and its callers stop the same way when they add its
 * errors to theirs. A valid document never enters the blocks that count errors, so the hot path runs
 * the same code as before. A caller may thus hold up to about twice `limit` errors (its own plus a
 * stopped callee's); `toIssues` reports at most `limit` of them.
 *
 * Not inside speculative code: ajv's `anyOf`/`oneOf`/`not`/`if`/`contains` count a branch's errors and
 * then roll them back (`errors = _errs3;`) when another branch passes, so stopping there could reject a
 * valid document. Statements between such a snapshot (`const _errs3 = errors;`) and its rollback get
 * no exit; the next statement outside it does. (spec/v1 has none of these keywords today.)
 */
export function addErrorLimit(code: string, limit: number): string {
  const file = ts.createSourceFile("validators.js", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const inserts: { at: number; text: string }[] = [];
  for (const fn of file.statements) {
    if (!ts.isFunctionDeclaration(fn) || !fn.name || !fn.body) continue;
    const name = fn.name.text;
    const counts: ts.ExpressionStatement[] = [];
    const snapshots = new Map<string, number>();
    const speculative: [number, number][] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && n !== fn) return;
      if (
        ts.isVariableDeclaration(n) &&
        ts.isIdentifier(n.name) &&
        n.initializer &&
        ts.isIdentifier(n.initializer) &&
        n.initializer.text === "errors"
      )
        snapshots.set(n.name.text, n.getStart(file));
      if (ts.isExpressionStatement(n)) {
        const e = n.expression;
        if (ts.isPostfixUnaryExpression(e) && ts.isIdentifier(e.operand) && e.operand.text === "errors")
          counts.push(n);
        else if (
          ts.isBinaryExpression(e) &&
          e.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
          ts.isIdentifier(e.left) &&
          e.left.text === "errors"
        ) {
          const right = e.right;
          if (ts.isIdentifier(right)) {
            const from = snapshots.get(right.text);
            if (from === undefined)
              throw new Error(`rollback to an unknown snapshot in ${name}: ${n.getText(file)}`);
            speculative.push([from, n.end]);
          } else if (
            ts.isPropertyAccessExpression(right) &&
            ts.isIdentifier(right.expression) &&
            right.expression.text === "vErrors" &&
            right.name.text === "length"
          )
            counts.push(n);
          else throw new Error(`unexpected update of errors in ${name}: ${n.getText(file)}`);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(fn.body);
    for (const st of counts) {
      const at = st.getStart(file);
      if (speculative.some(([from, to]) => from < at && at < to)) continue;
      inserts.push({
        at: st.end,
        text: `\nif(errors >= ${limit}){\n${name}.errors = vErrors;\nreturn false;\n}`,
      });
    }
  }
  let out = code;
  for (const { at, text } of inserts.sort((a, b) => b.at - a.at))
    out = out.slice(0, at) + text + out.slice(at);
  return out;
}

/** One top-level statement of ajv's output: what it declares and which top-level names it reads. */
interface Statement {
  text: string;
  /** Names it declares (`validate12`, `pattern3`, `formats0`); empty for an assignment. */
  declares: string[];
  /** A function declaration: a validator (the others are constants it reads). */
  isFunction?: boolean;
  /** For `validate12.evaluated = ...`: the function it belongs to. */
  attachedTo?: string;
  reads: Set<string>;
}

/** Splits ajv's standalone (CommonJS-style) output into statements and its `exports.X = fn` map. */
function parseStandalone(code: string): {
  statements: Statement[];
  exported: Map<string, string>;
  identifiers: Set<string>;
} {
  const file = ts.createSourceFile("validators.js", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const identifiers = new Set<string>();
  const statements: Statement[] = [];
  const exported = new Map<string, string>();
  for (const node of file.statements) {
    const reads = new Set<string>();
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n)) {
        const p = n.parent;
        const isMemberName =
          (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n);
        if (!isMemberName) {
          reads.add(n.text);
          identifiers.add(n.text);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
    const text = code.slice(node.getStart(file), node.end);
    if (ts.isFunctionDeclaration(node) && node.name) {
      statements.push({ text, declares: [node.name.text], isFunction: true, reads });
    } else if (ts.isVariableStatement(node)) {
      const declares = node.declarationList.declarations.map((d) => {
        if (!ts.isIdentifier(d.name)) throw new Error(`unexpected destructuring in validator code: ${text}`);
        return d.name.text;
      });
      statements.push({ text, declares, reads });
    } else if (
      ts.isExpressionStatement(node) &&
      ts.isBinaryExpression(node.expression) &&
      node.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.expression.left) &&
      ts.isIdentifier(node.expression.left.expression)
    ) {
      const target = node.expression.left.expression.text;
      const right = node.expression.right;
      if (target === "exports") {
        if (!ts.isIdentifier(right)) throw new Error(`unexpected export in validator code: ${text}`);
        exported.set(node.expression.left.name.text, right.text);
      } else {
        statements.push({ text, declares: [], attachedTo: target, reads });
      }
    } else {
      throw new Error(`unexpected top-level statement in validator code: ${text.slice(0, 200)}`);
    }
  }
  return { statements, exported, identifiers };
}

/** Compiles `schemas` into one ES module exporting a validator per named schema. */
export function emitValidators(
  files: readonly LoadedSchema[],
  schemas: readonly NamedSchemaIR[],
  specHash: string,
): { js: string; dts: string } {
  const ajv = new Ajv2020({
    ...AJV_OPTIONS,
    // CommonJS-style output (`exports.X = ...`), regrouped below. The module imports our own format
    // checks under this name.
    code: { source: true, esm: false, lines: true, formats: _`arpFormats` },
  });
  for (const [name, check] of Object.entries(formatValidators)) ajv.addFormat(name, check);
  // Prose is not needed to validate; leaving it out keeps it out of the generated module.
  for (const file of files) ajv.addSchema(stripAnnotations(file.schema) as JsonObject);

  const exportMap: Record<string, string> = {};
  for (const schema of schemas) exportMap[schema.name] = schema.id;
  // A CommonJS module: under NodeNext its default import is `module.exports`, whose `.default` is the function.
  const code = addErrorLimit(
    standalone.default(ajv, exportMap).replace(/^"use strict";\n?/, ""),
    MAX_VALIDATION_ISSUES,
  );
  const requires = code.match(/require\([^)]*\)/g);
  if (requires)
    throw new Error(`validator code needs runtime modules we do not ship: ${requires.join(", ")}`);

  const { statements, exported, identifiers } = parseStandalone(code);
  for (const s of schemas) {
    if (identifiers.has(s.name))
      throw new Error(`schema name ${s.name} would shadow an identifier the validator code uses`);
  }
  const declaredBy = new Map<string, Statement>();
  for (const st of statements) for (const name of st.declares) declaredBy.set(name, st);
  const attached = new Map<string, Statement[]>();
  for (const st of statements) {
    if (st.attachedTo === undefined) continue;
    if (!declaredBy.has(st.attachedTo)) throw new Error(`assignment to an unknown name: ${st.text}`);
    attached.set(st.attachedTo, [...(attached.get(st.attachedTo) ?? []), st]);
  }
  const isFunction = (name: string): boolean => declaredBy.get(name)?.isFunction === true;

  // The const a function is published under: its schema's name, else (a function no schema names) its own.
  const constOf = new Map<string, string>();
  for (const s of schemas) {
    const fn = exported.get(s.name);
    if (!fn || !isFunction(fn)) throw new Error(`no validator function was compiled for ${s.name}`);
    if (!constOf.has(fn)) constOf.set(fn, s.name);
  }

  /** A function's closure: its statements (in ajv's order) and the functions it calls (arguments). */
  function closureOf(fn: string): { body: Statement[]; deps: string[] } {
    const body = new Set<Statement>();
    const deps = new Set<string>();
    const add = (st: Statement): void => {
      if (body.has(st)) return;
      body.add(st);
      for (const a of attached.get(st.declares[0] ?? "") ?? []) add(a);
      for (const name of st.reads) {
        if (st.declares.includes(name)) continue;
        const def = declaredBy.get(name);
        if (!def) continue;
        if (isFunction(name) && name !== fn) deps.add(name);
        else add(def);
      }
    };
    add(declaredBy.get(fn)!);
    return { body: statements.filter((st) => body.has(st)), deps: [...deps].sort() };
  }

  // Each function after the ones it calls; a cycle (a recursive $ref across schemas) cannot be
  // expressed as arguments and is reported rather than miscompiled.
  const out: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const emit = (fn: string, via: string[]): void => {
    if (state.get(fn) === "done") return;
    if (state.get(fn) === "visiting")
      throw new Error(`recursive $ref between validators: ${[...via, fn].join(" → ")}`);
    state.set(fn, "visiting");
    const { body, deps } = closureOf(fn);
    for (const d of deps) emit(d, [...via, fn]);
    const name = constOf.get(fn) ?? fn;
    constOf.set(fn, name);
    const exportKeyword = schemas.some((s) => s.name === name) ? "export " : "";
    out.push(
      "",
      `${exportKeyword}const ${name} = /* @__PURE__ */ ((${deps.join(", ")}) => {`,
      ...body.map((st) => st.text),
      `return ${fn};`,
      `})(${deps.map((d) => constOf.get(d)!).join(", ")});`,
    );
    state.set(fn, "done");
  };
  for (const s of schemas) {
    const fn = exported.get(s.name)!;
    emit(fn, []);
    if (constOf.get(fn) !== s.name) out.push(`export const ${s.name} = ${constOf.get(fn)};`);
  }

  const js = [
    header(specHash),
    "// Compiled by ajv (standalone mode) from the JSON Schemas; see ../validation.ts for the API.",
    "// One pure closure per schema (see tools/codegen/src/emit/validators.ts): bundlers keep only",
    "// the validators a program uses.",
    `// Each validator stops after ${MAX_VALIDATION_ISSUES} errors (MAX_VALIDATION_ISSUES in ../validation.ts).`,
    "",
    'import { formatValidators as arpFormats } from "../formats.js";',
    ...out,
    "",
  ].join("\n");

  const d = new CodeWriter();
  d.line(header(specHash)).line();
  d.line('import type { CompiledValidator } from "../validation.js";').line();
  for (const schema of schemas) {
    d.doc(`Precompiled validator for \`${schema.name}\` (\`spec/v1/schemas/${schema.file}\`).`);
    d.line(`export declare const ${schema.name}: CompiledValidator;`);
  }
  return { js, dts: d.toString() };
}
