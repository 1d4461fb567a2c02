/**
 * A tiny in-memory Node Registry for the tests of both halves (the reference stack's cannot be a
 * dependency here: it depends on @arp/mcp). Like the reference one, it stores a version once (409
 * after that). It records the `authorization` headers of its listings, and can fail or hang.
 */
import type { NodeType } from "@arp/model";
import {
  ArpServerError,
  BaseNodeRegistryServer,
  conflict,
  type NodeRegistryRequests,
  notFound,
  type RunningServer,
} from "@arp/server";

export class TestRegistry extends BaseNodeRegistryServer {
  /** What it lists, in publish order; a test may change it directly. */
  readonly nodeTypes: NodeType[];
  readonly authorizations: (string | undefined)[] = [];
  publishes = 0;
  /** True: listing answers 500, as a registry that is down. */
  failing = false;
  /** How long listing takes (a registry that hangs). */
  listDelayMs = 0;

  constructor(initial: readonly NodeType[] = []) {
    super({ auth: { mode: "disabled" }, logger: { warn: () => {}, error: () => {} } });
    this.nodeTypes = [...initial];
  }

  async listNodeTypes(req: NodeRegistryRequests["listNodeTypes"]): Promise<NodeType[]> {
    this.authorizations.push(req.headers.authorization);
    if (this.listDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.listDelayMs));
    if (this.failing)
      throw new ArpServerError({ status: 500, code: "internal_error", message: "down for the test" });
    return this.nodeTypes;
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): NodeType {
    this.publishes++;
    const type = req.body.node_type;
    const key = `${type.node_type_id}@${type.version}`;
    if (this.nodeTypes.some((t) => `${t.node_type_id}@${t.version}` === key))
      throw conflict(`${key} is already published`);
    this.nodeTypes.push(type);
    return type;
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): NodeType {
    const found = this.nodeTypes.find(
      (t) =>
        t.node_type_id === req.params.node_type_id &&
        (req.params.version === undefined || t.version === req.params.version),
    );
    if (found === undefined) throw notFound(`no node type ${req.params.node_type_id}`);
    return found;
  }

  /** The ids published, sorted. */
  ids(): string[] {
    return [...new Set(this.nodeTypes.map((t) => t.node_type_id))].sort();
  }
}

export async function startRegistry(port = 0): Promise<{ registry: TestRegistry; running: RunningServer }> {
  const registry = new TestRegistry();
  return { registry, running: await registry.listen({ port }) };
}
