import type { Command } from "./command.js";

// Scaffold: filled in by issue 14's executor work.
export const executorCommand: Command = {
  name: "executor",
  summary: "(not yet available)",
  options: [],
  run: async (_values, io) => {
    io.stderr("arp-mcp executor: not yet available\n");
    return 1;
  },
};
