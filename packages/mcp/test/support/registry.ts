/**
 * A tiny in-memory Node Registry for the tests (the reference stack's cannot be a dependency here:
 * it depends on @arp/mcp). Like the reference one, it stores a version once (409 after that).
 */
import type { NodeType } from "@arp/model";
import {
  BaseNodeRegistryServer,
  conflict,
  type NodeRegistryRequests,
  notFound,
  type RunningServer,
} from "@arp/server";

export class TestRegistry extends BaseNodeRegistryServer {
  readonly types = new Map<string, NodeType>();
  publishes = 0;

  constructor() {
    super({ auth: { mode: "disabled" }, logger: { warn: () => {}, error: () => {} } });
  }

  listNodeTypes(_req: NodeRegistryRequests["listNodeTypes"]): NodeType[] {
    return [...this.types.values()];
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): NodeType {
    this.publishes++;
    const type = req.body.node_type;
    const key = `${type.node_type_id}@${type.version}`;
    if (this.types.has(key)) throw conflict(`${key} is already published`);
    this.types.set(key, type);
    return type;
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): NodeType {
    const found = [...this.types.values()].find(
      (t) =>
        t.node_type_id === req.params.node_type_id &&
        (req.params.version === undefined || t.version === req.params.version),
    );
    if (found === undefined) throw notFound(`no node type ${req.params.node_type_id}`);
    return found;
  }

  /** The ids published, sorted. */
  ids(): string[] {
    return [...new Set([...this.types.values()].map((t) => t.node_type_id))].sort();
  }
}

export async function startRegistry(port = 0): Promise<{ registry: TestRegistry; running: RunningServer }> {
  const registry = new TestRegistry();
  return { registry, running: await registry.listen({ port }) };
}
