#!/usr/bin/env node
// The `arp-mcp` command. This file is committed (not built) so that npm can link and mark it
// executable at install time, before `dist/` exists in a fresh clone of the repository.
import { runCli } from "../dist/cli.js";

runCli(process.argv.slice(2));
