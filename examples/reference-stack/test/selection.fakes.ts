/** A small Node Registry on @arp/server for the selection, composite and PDP tests: a fixed list, real HTTP. */
import type * as T from "@arp/model";
import {
  BaseNodeRegistryServer,
  conflict,
  type NodeRegistryRequests,
  notFound,
  type RunningServer,
} from "@arp/server";

export class FakeRegistry extends BaseNodeRegistryServer {
  readonly nodeTypes: T.NodeType[];
  listCalls = 0;
  getCalls = 0;
  /** When set, every operation answers 500. */
  broken = false;

  constructor(nodeTypes: readonly T.NodeType[]) {
    super({ auth: { mode: "disabled" }, logger: { warn() {}, error() {} } });
    this.nodeTypes = [...nodeTypes];
  }

  listNodeTypes(req: NodeRegistryRequests["listNodeTypes"]): T.NodeType[] {
    this.listCalls++;
    if (this.broken) throw new Error("broken on purpose");
    return this.nodeTypes.filter((n) => req.params.kind === undefined || n.kind === req.params.kind);
  }

  publishNodeType(req: NodeRegistryRequests["publishNodeType"]): T.NodeType {
    const n = req.body.node_type;
    if (this.nodeTypes.some((m) => m.node_type_id === n.node_type_id && m.version === n.version)) {
      throw conflict("exists");
    }
    this.nodeTypes.push(n);
    return n;
  }

  getNodeType(req: NodeRegistryRequests["getNodeType"]): T.NodeType {
    this.getCalls++;
    if (this.broken) throw new Error("broken on purpose");
    const found = this.nodeTypes.filter(
      (n) =>
        n.node_type_id === req.params.node_type_id &&
        (req.params.version === undefined || n.version === req.params.version),
    );
    const last = found.at(-1);
    if (last === undefined) throw notFound(`no node type ${req.params.node_type_id}`);
    return last;
  }
}

export async function startRegistry(
  nodeTypes: readonly T.NodeType[],
): Promise<{ registry: FakeRegistry; running: RunningServer }> {
  const registry = new FakeRegistry(nodeTypes);
  return { registry, running: await registry.listen({ port: 0 }) };
}

export const atomic = (
  id: string,
  description: string,
  extra: Partial<T.NodeType> = {},
  version = "1.0.0",
): T.NodeType => ({ node_type_id: id, version, kind: "atomic", description, ...extra });
