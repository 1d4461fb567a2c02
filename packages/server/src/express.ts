/**
 * `@arp/server/express`: an ARP service as an Express 5 app or router. A separate entry point, so
 * that the core (and the default `listen()` path) never loads Express; Express is a peer dependency.
 * Routing, validation, auth and errors are the same core's: Express only hands requests over.
 */
import express, { type Express, type Router } from "express";
import type { ArpServerBase } from "./core/server.js";

/**
 * A router to mount into an existing app: `app.use("/arp", createRouter(service))`. Requests the
 * service has no route for are answered 404 with an ARP envelope (mount it last, or on its own prefix).
 * If the app parsed JSON already (`express.json()`), the parsed body is used.
 */
export function createRouter(service: ArpServerBase): Router {
  const router = express.Router();
  router.use((req, res) => {
    void service.handle(req, res);
  });
  return router;
}

/** A complete Express 5 app serving `service`. */
export function createApp(service: ArpServerBase): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(createRouter(service));
  return app;
}
