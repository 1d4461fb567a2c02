/**
 * What the auth attack tests (auth-attack.test.ts) need besides `jwks.ts`: keys of any JWS algorithm,
 * tokens with any header signed by hand (so that jose's signing checks do not stop a hostile header
 * from being made), a loopback HTTP server whose every answer the test writes (a hostile JWKS, or the
 * "attacker" server a token's header points to), and a GET that sends its path byte for byte.
 */
import { sign as cryptoSign, KeyObject } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK } from "jose";
import type { RawResponse } from "./http.js";

export interface AlgKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK, with `kid`, `alg` and `use: "sig"`. */
  jwk: JWK;
}

export async function makeAlgKey(kid: string, alg: string, options: { crv?: string } = {}): Promise<AlgKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicKey, jwk };
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString("base64url");

/** The node:crypto digest and signature shape of a JWS algorithm. */
function scheme(alg: string): { digest: string | null; pss?: boolean; ec?: boolean } {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { digest: `sha${bits}` };
  if (alg.startsWith("PS")) return { digest: `sha${bits}`, pss: true };
  if (alg.startsWith("ES")) return { digest: `sha${bits === "512" ? "512" : bits}`, ec: true };
  if (alg === "EdDSA" || alg === "Ed25519") return { digest: null };
  throw new Error(`no scheme for ${alg}`);
}

/**
 * A compact JWS of `payload` under exactly `header` (nothing added), signed with `key`'s private key
 * by the algorithm `signAs` (default: the key's own), whatever the header's `alg` says.
 */
export function signRaw(
  key: AlgKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signAs: string = key.alg,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const { digest, pss, ec } = scheme(signAs);
  const signature = cryptoSign(digest, Buffer.from(input), {
    key: KeyObject.from(key.privateKey),
    ...(pss ? { padding: 6, saltLength: Number(signAs.slice(2)) / 8 } : {}),
    ...(ec ? { dsaEncoding: "ieee-p1363" as const } : {}),
  });
  return `${input}.${b64url(signature)}`;
}

/** A hand-made, answerable-by-the-test HTTP server on loopback, counting what it is asked. */
export interface ScriptedServer {
  readonly origin: string;
  /** Every request it received, in order (method and raw URL). */
  readonly requests: string[];
  /** Connections it accepted (a request that never completes its head still counts here). */
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startScriptedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ScriptedServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A GET of `path` exactly as written (no URL parsing, so no dot-segment removal or re-encoding). */
export function rawGet(
  origin: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end();
  });
}
