/** A tiny indentation-aware builder, so emitters describe structure instead of gluing strings. */
export class CodeWriter {
  readonly #lines: string[] = [];
  #depth = 0;

  line(text = ""): this {
    this.#lines.push(text ? "  ".repeat(this.#depth) + text : "");
    return this;
  }

  lines(texts: readonly string[]): this {
    for (const t of texts) this.line(t);
    return this;
  }

  /** `open`, the indented body, then `close`. */
  block(open: string, body: () => void, close = "}"): this {
    this.line(open);
    this.#depth++;
    body();
    this.#depth--;
    return this.line(close);
  }

  /** A JSDoc comment from paragraphs; empty paragraphs are dropped. */
  doc(...paragraphs: (string | undefined)[]): this {
    const text = paragraphs
      .filter((p): p is string => Boolean(p?.trim()))
      .map((p) => p.trim().replaceAll("*/", "*\\/"))
      .join("\n\n");
    if (!text) return this;
    const rows = text.split("\n");
    if (rows.length === 1 && rows[0]!.length < 100) return this.line(`/** ${rows[0]} */`);
    this.line("/**");
    for (const row of rows) this.line(row ? ` * ${row}` : " *");
    return this.line(" */");
  }

  toString(): string {
    return `${this.#lines.join("\n").replace(/\n+$/, "")}\n`;
  }
}

/** A property key as TypeScript source: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
