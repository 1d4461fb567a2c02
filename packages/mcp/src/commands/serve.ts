import type { Command } from "./command.js";

// Scaffold: filled in by issue 14's serve work.
export const serveCommand: Command = {
  name: "serve",
  summary: "(not yet available)",
  options: [],
  run: async (_values, io) => {
    io.stderr("arp-mcp serve: not yet available\n");
    return 1;
  },
};
