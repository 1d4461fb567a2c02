/** Every built-in node type of the stack: what the Node Registry is seeded with. */
import type { NodeType } from "@arp/model";
import { ATOMIC_NODE_TYPES } from "./atomic.js";
import { COMPOSITE_NODE_TYPES } from "./composite.js";

export const BUILTIN_NODE_TYPES: readonly NodeType[] = [...ATOMIC_NODE_TYPES, ...COMPOSITE_NODE_TYPES];
export { ATOMIC_NODE_TYPES, COMPOSITE_NODE_TYPES };
