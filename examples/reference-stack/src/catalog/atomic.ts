/** The atomic executor's built-in node types (filled in with the executor). */
import type { NodeType } from "@arp/model";

export const ATOMIC_NODE_TYPES: readonly NodeType[] = [];
