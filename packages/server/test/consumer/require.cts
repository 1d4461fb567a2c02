// A CommonJS consumer: resolves the `require` conditions (core and express entries) and their `.d.cts` types.
import server = require("@arp/server");
import expressEntry = require("@arp/server/express");

export const helpers = [server.notFound("x").status, typeof expressEntry.createApp];
