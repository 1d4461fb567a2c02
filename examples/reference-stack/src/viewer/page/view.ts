/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The run on the page, with DOM APIs only: the run's header (state, outputs, error, `run.start`
 * decision), the tree of node runs (updated in place as events arrive, so a click is never lost to
 * a redraw), the selected node run's details, and the raw event log. Every value is written as
 * text (`textContent`), never as HTML: event data is whatever the run's nodes produced.
 */
import {
  type ErrorView,
  isTerminal,
  type NodeView,
  type PolicyView,
  type RunView,
  truncatedBytes,
  walk,
} from "./model.js";

type Child = Node | string | undefined | false;

/** `<tag class=...>` with children; `undefined` and `false` children are left out. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  for (const c of children) if (c !== undefined && c !== false) e.append(c);
  return e;
}

/** `parent`'s children replaced by `children` (`undefined` and `false` left out). */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== undefined && c !== false));
}

/** Pretty JSON, or what stood in for a value too large for its event. */
export function json(value: unknown): HTMLElement {
  const bytes = truncatedBytes(value);
  if (bytes !== undefined) {
    return el(
      "p",
      "truncated",
      `${bytes.toLocaleString("en")} bytes of JSON: too large for an event (the cap is 16 KiB), left out`,
    );
  }
  return el("pre", "json", JSON.stringify(value, null, 2));
}

function errorText(e: ErrorView): string {
  return `${e.code}: ${e.message}`;
}

function policyText(p: PolicyView): string {
  const why = [p.reason_code, p.message].filter(Boolean).join(", ");
  return `${p.action}: ${p.decision}${why ? ` (${why})` : ""}`;
}

/** A node run's id as a row shows it: without its run's id in front (`….3`); the title has it all. */
export function shortId(runId: string, id: string): string {
  return id.startsWith(runId) && id.length > runId.length ? `…${id.slice(runId.length)}` : id;
}

interface Row {
  li: HTMLLIElement;
  button: HTMLButtonElement;
  state: HTMLSpanElement;
  type: HTMLSpanElement;
  kind: HTMLSpanElement;
  policy: HTMLSpanElement;
  error: HTMLDivElement;
  children: HTMLUListElement;
}

export interface Elements {
  runTitle: HTMLElement;
  runState: HTMLElement;
  runInfo: HTMLElement;
  tree: HTMLUListElement;
  details: HTMLElement;
  events: HTMLOListElement;
  eventCount: HTMLElement;
}

/** Draws one run; {@link RunPanel.show} starts over with another. */
export class RunPanel {
  readonly #e: Elements;
  #run: RunView | undefined;
  readonly #rows = new Map<string, Row>();
  readonly #dirty = new Set<string>();
  #shownEvents = 0;
  #selected: string | undefined;
  #frame: number | undefined;

  constructor(elements: Elements) {
    this.#e = elements;
    elements.tree.addEventListener("click", (ev) => {
      const li = (ev.target as Element | null)?.closest<HTMLElement>("li[data-node-run-id]");
      const id = li?.dataset.nodeRunId;
      if (id !== undefined) this.select(id);
    });
  }

  get run(): RunView | undefined {
    return this.#run;
  }

  show(run: RunView): void {
    this.#run = run;
    this.#rows.clear();
    this.#dirty.clear();
    this.#shownEvents = 0;
    this.#selected = undefined;
    this.#e.tree.replaceChildren();
    this.#e.events.replaceChildren();
    this.#e.details.replaceChildren(el("p", "hint", "Click a node run to see its inputs and outputs."));
    this.#draw();
  }

  /** Marks node runs to redraw at the next frame (with the header, the log and the details). */
  changed(ids: Iterable<string>): void {
    for (const id of ids) this.#dirty.add(id);
    this.#frame ??= requestAnimationFrame(() => {
      this.#frame = undefined;
      this.#draw();
    });
  }

  select(id: string): void {
    const previous = this.#selected === undefined ? undefined : this.#rows.get(this.#selected);
    previous?.button.setAttribute("aria-pressed", "false");
    previous?.li.classList.remove("selected");
    this.#selected = id;
    const row = this.#rows.get(id);
    row?.button.setAttribute("aria-pressed", "true");
    row?.li.classList.add("selected");
    this.#details();
  }

  #draw(): void {
    const run = this.#run;
    if (run === undefined) return;
    this.#header(run);
    // New rows in tree order (a parent before its children), then every changed one.
    for (const { node } of walk(run)) if (!this.#rows.has(node.id)) this.#dirty.add(node.id);
    for (const { node } of walk(run)) if (this.#dirty.has(node.id)) this.#row(run, node);
    const selectedChanged = this.#selected !== undefined && this.#dirty.has(this.#selected);
    this.#dirty.clear();
    this.#log(run);
    if (selectedChanged) this.#details();
  }

  #header(run: RunView): void {
    const e = this.#e;
    e.runTitle.textContent = run.run_id;
    e.runState.textContent = run.state;
    e.runState.dataset.state = run.state;
    const info: Child[] = [];
    for (const p of run.policy) {
      const line = el("div", `policy decision-${p.decision}`, `policy ${policyText(p)}`);
      info.push(line);
    }
    if (run.error !== undefined) info.push(el("div", "error", `error ${errorText(run.error)}`));
    if (isTerminal(run.state) && run.outputs !== undefined)
      info.push(el("div", "outputs", el("span", "label", "outputs"), json(run.outputs)));
    fill(e.runInfo, ...info);
  }

  #row(run: RunView, n: NodeView): void {
    let row = this.#rows.get(n.id);
    if (row === undefined) {
      const state = el("span", "state");
      const type = el("span", "type");
      const kind = el("span", "kind");
      const policy = el("span", "policy");
      const id = el("span", "id", shortId(run.run_id, n.id));
      id.title = n.id;
      const button = el("button", "row", state, type, kind, policy, id);
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      const error = el("div", "error");
      const children = el("ul", "children");
      const li = el("li", "node", button, error, children);
      li.dataset.nodeRunId = n.id;
      row = { li, button, state, type, kind, policy, error, children };
      this.#rows.set(n.id, row);
    }
    // Under its parent (children arrive in order, so appending keeps the order), else at the top.
    const parent = n.parent === undefined ? undefined : this.#rows.get(n.parent);
    const list = parent?.children ?? this.#e.tree;
    if (row.li.parentElement !== list) list.append(row.li);

    row.li.dataset.state = n.state;
    row.state.textContent = n.state;
    row.state.dataset.state = n.state;
    const ref = n.node_type_ref;
    row.type.textContent =
      ref === undefined ? "(node type not known yet)" : `${ref.node_type_id}@${ref.version}`;
    row.kind.textContent = n.kind ?? "";
    // The row says only the decision (and a refusal's reason code); the details have it all.
    const decision = n.policy.at(-1);
    row.policy.textContent =
      decision === undefined
        ? ""
        : `policy ${decision.decision}${decision.decision === "allow" || !decision.reason_code ? "" : ` (${decision.reason_code})`}`;
    row.policy.title = decision === undefined ? "" : policyText(decision);
    row.policy.className = `policy${decision === undefined ? "" : ` decision-${decision.decision}`}`;
    row.error.textContent = n.error === undefined ? "" : errorText(n.error);
    row.error.hidden = n.error === undefined;
    row.li.classList.toggle("root", n.id === run.root);
  }

  #log(run: RunView): void {
    const lines: Node[] = [];
    for (const event of run.events.slice(this.#shownEvents)) {
      const state = typeof event.data?.state === "string" ? event.data.state : "";
      const li = el(
        "li",
        undefined,
        el("span", "seq", String(event.seq)),
        ` ${event.type}`,
        event.node_run_id === undefined
          ? undefined
          : el("span", "id", ` ${shortId(run.run_id, event.node_run_id)}`),
        state && el("span", `state-text state-${state}`, ` ${state}`),
      );
      lines.push(li);
    }
    this.#shownEvents = run.events.length;
    this.#e.events.append(...lines);
    this.#e.eventCount.textContent = String(run.events.length);
  }

  #details(): void {
    const run = this.#run;
    const n = this.#selected === undefined ? undefined : run?.nodes.get(this.#selected);
    if (run === undefined || n === undefined) return;
    const fields: [string, string | undefined][] = [
      ["node run", n.id],
      ["node type", n.node_type_ref && `${n.node_type_ref.node_type_id} ${n.node_type_ref.version}`],
      ["kind", n.kind],
      ["state", n.state],
      ["parent", n.parent],
      ["executor", n.executor],
      ["subtask", n.subtask_id],
      ["candidate set", n.candidate_set_id],
    ];
    const dl = el("dl");
    for (const [name, value] of fields)
      if (value !== undefined) dl.append(el("dt", undefined, name), el("dd", undefined, value));
    const section = (name: string, className: string, ...body: Child[]) =>
      el("section", className, el("h3", undefined, name), ...body);
    const none = (what: string) => el("p", "hint", what);
    fill(
      this.#e.details,
      el("h2", undefined, n.node_type_ref?.node_type_id ?? n.id),
      dl,
      section("Inputs", "inputs", n.inputs === undefined ? none("no inputs in the events") : json(n.inputs)),
      section(
        "Outputs",
        "outputs",
        n.outputs !== undefined
          ? json(n.outputs)
          : none(isTerminal(n.state) ? `none: it ended ${n.state}` : "none yet: it has not ended"),
      ),
      n.error !== undefined &&
        section(
          "Error",
          "error-section",
          el("p", "error", errorText(n.error)),
          n.error.details === undefined ? undefined : json(n.error.details),
        ),
      n.policy.length > 0 &&
        section(
          "Policy decisions",
          "policy-section",
          el(
            "ul",
            undefined,
            ...n.policy.map((p) => el("li", `policy decision-${p.decision}`, policyText(p))),
          ),
        ),
      n.evaluations.length > 0 &&
        section(
          "Evaluations",
          "evaluations",
          el(
            "ul",
            undefined,
            ...n.evaluations.map((e) =>
              el(
                "li",
                `evaluation-${e.status}`,
                [e.status, e.reason_code, e.message].filter(Boolean).join(": "),
              ),
            ),
          ),
        ),
      section(
        "Events",
        "node-events",
        el(
          "ol",
          undefined,
          ...n.events.map((e) =>
            el(
              "li",
              undefined,
              el("span", "seq", String(e.seq)),
              ` ${e.type}${typeof e.data?.state === "string" ? ` ${e.data.state}` : ""} `,
              el("time", undefined, e.time.replace(/^.*T/, "")),
            ),
          ),
        ),
      ),
    );
  }
}
