/**
 * The `--secure` stack's development token issuer: an ES256 key made at start-up, its JWKS served on
 * loopback, and tokens for a given audience (one ARP service) minted in process for the services'
 * calls to each other, or over `POST /token` for a developer's curl or `arp-conformance --headers`.
 * For development only: anyone who can reach the port gets a token.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthOptions } from "@arp/server";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** How long a minted token lives; the token cache renews it when 80 % of this has passed. */
export const TOKEN_LIFETIME_S = 600;
/** The largest `POST /token` body read. */
const MAX_TOKEN_REQUEST_BYTES = 4096;

export interface IssuedToken {
  token: string;
  expiresAt: number;
}

export class DevTokenIssuer {
  readonly #server: Server;
  #url = "";
  #key: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"] | undefined;
  #jwk: JWK | undefined;
  readonly #kid = randomUUID();

  constructor() {
    this.#server = createServer((req, res) => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && req.url === "/.well-known/jwks.json") {
        answer(200, { keys: [this.#jwk] });
        return;
      }
      if (req.method !== "POST" || req.url !== "/token") {
        answer(404, { error: { code: "not_found", message: "GET /.well-known/jwks.json or POST /token" } });
        return;
      }
      let size = 0;
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_TOKEN_REQUEST_BYTES) req.destroy();
        else chunks.push(chunk);
      });
      req.on("end", () => {
        let request: { audience?: unknown; subject?: unknown };
        try {
          request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof request;
        } catch {
          answer(400, {
            error: { code: "invalid_request", message: 'body: { "audience": "<service key>" }' },
          });
          return;
        }
        if (typeof request.audience !== "string" || request.audience === "") {
          answer(400, {
            error: { code: "invalid_request", message: "audience (a service key) is required" },
          });
          return;
        }
        const subject = typeof request.subject === "string" ? request.subject : "developer";
        this.mint(request.audience, subject).then(
          ({ token }) =>
            answer(200, { access_token: token, token_type: "Bearer", expires_in: TOKEN_LIFETIME_S }),
          () => answer(500, { error: { code: "internal_error", message: "could not sign" } }),
        );
      });
    });
  }

  /** Makes the key and listens (loopback). */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    this.#key = privateKey;
    this.#jwk = { ...(await exportJWK(publicKey)), kid: this.#kid, alg: "ES256", use: "sig" };
    await new Promise<void>((resolve) => this.#server.listen(port, host, resolve));
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://${host}:${address.port}`;
    return this.#url;
  }

  get issuer(): string {
    return this.#url;
  }

  /** The auth settings of the service `audience`: tokens of this issuer, for that audience only. */
  authFor(audience: string): AuthOptions {
    return devIssuerAuth(this.#url, audience);
  }

  /** A token for calls to `audience`, on behalf of `subject`. */
  async mint(audience: string, subject: string): Promise<IssuedToken> {
    if (this.#key === undefined) throw new Error("the issuer is not listening yet");
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.#kid, typ: "JWT" })
      .setIssuer(this.#url)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_S)
      .sign(this.#key);
    return { token, expiresAt: (now + TOKEN_LIFETIME_S) * 1000 };
  }

  /**
   * A `token(audience)` for {@link PeersOptions}: one cached token per audience for `subject`,
   * renewed when 80 % of its life has passed.
   */
  tokens(subject: string): (audience: string) => Promise<string> {
    const cache = new Map<string, Promise<IssuedToken>>();
    return async (audience) => {
      let issued = cache.get(audience);
      const renewAt = (await issued)?.expiresAt ?? 0;
      if (issued === undefined || Date.now() > renewAt - TOKEN_LIFETIME_S * 200) {
        issued = this.mint(audience, subject);
        cache.set(audience, issued);
      }
      return (await issued).token;
    };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The auth settings of the service `audience` for tokens of the development issuer at `issuer` (its URL). */
export function devIssuerAuth(issuer: string, audience: string): AuthOptions {
  return {
    mode: "required",
    issuer,
    audience,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: ["ES256"],
  };
}

/**
 * {@link DevTokenIssuer.tokens} for a process other than the issuer's (a coordinator replica of the
 * `--secure` stack): tokens from `POST <issuer>/token`, one cached per audience, renewed when 80 % of
 * its life has passed; a failed request is not cached (the next call asks again).
 */
export function remoteTokens(issuer: string, subject: string): (audience: string) => Promise<string> {
  const cache = new Map<string, Promise<IssuedToken>>();
  const fetchToken = async (audience: string): Promise<IssuedToken> => {
    const response = await fetch(`${issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ audience, subject }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the token issuer answered ${response.status}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    return { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  };
  return async (audience) => {
    let issued = cache.get(audience);
    const renewAt = (await issued?.catch(() => undefined))?.expiresAt ?? 0;
    if (issued === undefined || Date.now() > renewAt - TOKEN_LIFETIME_S * 200) {
      issued = fetchToken(audience);
      cache.set(audience, issued);
      issued.catch(() => cache.delete(audience));
    }
    return (await issued).token;
  };
}
