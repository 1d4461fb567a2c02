/**
 * A real JWKS (and OIDC discovery) endpoint on a loopback port, with keys made by jose, and the
 * tokens the auth tests send: well signed, mis-signed, `alg: none`, HS256 keyed with the public key.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as served, with `kid`, `alg` and `use`. */
  jwk: JWK;
}

export async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, jwk };
}

/** `up` answers; `down` refuses connections (the port is closed); `hang` accepts and never answers. */
export type JwksState = "up" | "down" | "hang";

export interface JwksServer {
  /** `http://127.0.0.1:<port>`, also the issuer in the discovery document. */
  readonly origin: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** GET requests per path, to see what was fetched and when. */
  readonly hits: Map<string, number>;
  /** Replaces the served keys (key rotation). */
  setKeys(keys: TestKey[]): void;
  /** Serves this body (status 200, JSON) at the JWKS path instead of the keys; undefined restores the keys. */
  setJwksBody(body: unknown): void;
  setState(state: JwksState): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  let served = keys;
  let override: { body: unknown } | undefined;
  let hanging = false;
  const sockets = new Set<Socket>();
  const hits = new Map<string, number>();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (hanging) return;
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (path === "/jwks.json") {
      json(200, override ? override.body : { keys: served.map((k) => k.jwk) });
    } else if (path === "/.well-known/openid-configuration" || path === "/custom/discovery") {
      json(200, { issuer: origin, jwks_uri: `${origin}/jwks.json` });
    } else {
      json(404, { error: "not found" });
    }
  };
  const server = createServer(handler);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  const port = await listen(0);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    jwksUri: `${origin}/jwks.json`,
    discoveryUrl: `${origin}/.well-known/openid-configuration`,
    hits,
    setKeys(next) {
      served = next;
    },
    setJwksBody(body) {
      override = body === undefined ? undefined : { body };
    },
    async setState(state) {
      hanging = state === "hang";
      if (state === "down") return stop();
      // Same port again, so that URLs already handed out keep working.
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}

export interface SignOptions {
  /** Default: the key's kid; `null` leaves `kid` out. */
  kid?: string | null;
  /** Extra protected-header fields. */
  header?: Record<string, unknown>;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Default: iat + 300. `null` leaves `exp` out. */
  exp?: number | null;
  nbf?: number;
}

export const now = (): number => Math.floor(Date.now() / 1000);

/** Signs a JWT with `key`'s private key (RS256), with `claims` as given plus iat/exp/nbf. */
export async function signToken(
  key: TestKey,
  claims: JWTPayload,
  options: SignOptions = {},
): Promise<string> {
  const iat = options.iat ?? now();
  const kid = options.kid === undefined ? key.kid : options.kid;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(kid === null ? {} : { kid }), ...options.header })
    .setIssuedAt(iat);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? iat + 300);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(key.privateKey);
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString("base64url");

/** An unsigned token (`alg: none`, empty signature). */
export function unsignedToken(claims: JWTPayload, kid?: string): string {
  const header = b64url(JSON.stringify({ alg: "none", typ: "JWT", ...(kid === undefined ? {} : { kid }) }));
  return `${header}.${b64url(JSON.stringify(claims))}.`;
}

/** The algorithm-confusion attack: HS256 keyed with the RSA public key's PEM, which anyone can fetch. */
export async function hs256WithPublicKey(key: TestKey, claims: JWTPayload): Promise<string> {
  const pem = await exportSPKI(key.publicKey);
  const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: key.kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
}
