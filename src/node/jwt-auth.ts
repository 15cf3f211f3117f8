// JWT bearer tokens (interfaces.md "Authentication and roles"): verified with jose against one issuer, either
// with a shared HMAC secret or with the issuer's JWKS, then mapped to a Principal (id = `sub`, role from a
// claim). A refused token says why (expired, wrong issuer, bad signature, ...) and never what the node holds.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROLES } from '../api/permissions.ts';
import type { Config } from '../config/config.ts';
import { CaxtonError } from '../errors.ts';
import { CLIENT_PREFIX } from '../messaging/message.ts';
import type { Principal, Role } from './services.ts';

/** With a shared secret only HMAC is accepted, so a token can never pick a weaker or asymmetric check. */
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
/** With a JWKS only public-key algorithms: an HS token must not be "verified" with a public key as its secret. */
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const HMAC_HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * True when the token's signature is the HMAC its header names over its first two parts; true also when the
 * header cannot be read or names another algorithm, so that jose gives the precise refusal for those.
 */
function hmacSignatureMatches(token: string, key: KeyObject): boolean {
  const dot = token.lastIndexOf('.');
  const signingInput = token.slice(0, dot);
  let hash: string | undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { alg?: unknown };
    hash = typeof header.alg === 'string' ? HMAC_HASHES[header.alg] : undefined;
  } catch {
    return true;
  }
  if (hash === undefined) return true;
  const expected = createHmac(hash, key).update(signingInput).digest();
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Verified tokens remembered per issuer (~1 KB each with the token). */
const VERIFIED_TOKENS_MAX = 10_000;

/** Three base64url parts: what a compact JWS looks like (an API key `cxk_...` never does). */
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWT.test(token);
}

export interface JwtAuthOptions {
  /** The only `iss` accepted. */
  issuer: string;
  /** When set, `aud` must be or contain it. */
  audience?: string;
  /**
   * Exactly one of secret, jwksUrl and discover (the config check guarantees it). `discover`: OpenID Connect
   * discovery, the JWKS named by `<issuer>/.well-known/openid-configuration`, whose `issuer` must be ours.
   */
  secret?: string;
  jwksUrl?: string;
  discover?: boolean;
  /** Refuse a token whose `exp` is further ahead than this: a leaked long-lived token is a password. */
  maxLifetimeMs?: number;
  /** The claim holding the role. */
  roleClaim: string;
  /** Told when the JWKS cannot be fetched (the caller gets 503 without the URL; the operator needs it). */
  onJwksError?: (error: unknown) => void;
  /** After a failed fetch of the key set, tokens are refused (503) without fetching again for this long. */
  keySetRetryMs?: number;
  /** Injected for tests; defaults to the system clock. */
  now?: () => Date;
}

export class JwtAuthenticator {
  readonly #options: JwtAuthOptions;
  readonly #key: KeyObject | JWTVerifyGetKey;
  readonly #algorithms: string[];
  /**
   * Tokens verified before, until their `exp`: a client sends the same token for minutes, and a signature check
   * (~50-100 µs for ES/RS) per request would make every call of a JWT client cost more than the call itself.
   * Only valid tokens enter; bounded, emptied when full.
   */
  readonly #verified = new Map<string, { principal: Principal; expiresMs: number }>();

  constructor(options: JwtAuthOptions) {
    if ([options.secret, options.jwksUrl, options.discover || undefined].filter((o) => o !== undefined).length !== 1) {
      throw new Error('JwtAuthenticator: give exactly one of secret, jwksUrl and discover');
    }
    this.#options = options;
    if (options.secret !== undefined) {
      // A KeyObject made once: given raw bytes, jose imports a key for every token it checks.
      this.#key = createSecretKey(Buffer.from(options.secret, 'utf8'));
      this.#algorithms = HMAC_ALGORITHMS;
    } else if (options.jwksUrl !== undefined) {
      this.#key = retriedAfterFailure(jwksKeys(new URL(options.jwksUrl), options.onJwksError), options.keySetRetryMs ?? KEY_SET_RETRY_MS, options.now);
      this.#algorithms = PUBLIC_KEY_ALGORITHMS;
    } else {
      this.#key = retriedAfterFailure(discoveredKeys(options.issuer, options.onJwksError), options.keySetRetryMs ?? KEY_SET_RETRY_MS, options.now);
      this.#algorithms = PUBLIC_KEY_ALGORITHMS;
    }
  }

  /** The principal of a token verified before and not expired since, from memory only. */
  known(token: string): Principal | undefined {
    const hit = this.#verified.get(token);
    if (!hit) return undefined;
    if (hit.expiresMs > (this.#options.now?.() ?? new Date()).getTime()) return hit.principal;
    this.#verified.delete(token);
    return undefined;
  }

  /** The principal of a valid token; throws UNAUTHENTICATED with the reason, or UNAVAILABLE when the JWKS is unreachable. */
  async authenticate(token: string): Promise<Principal> {
    const known = this.known(token);
    if (known) return known;
    // A forged HMAC token is refused by one node:crypto HMAC (~2 µs) before jose's WebCrypto path (~100 µs):
    // refusing must stay cheaper than serving.
    if (this.#options.secret !== undefined && !hmacSignatureMatches(token, this.#key as KeyObject)) {
      throw unauthenticated('bad signature');
    }
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, this.#key as JWTVerifyGetKey, {
        issuer: this.#options.issuer,
        ...(this.#options.audience !== undefined ? { audience: this.#options.audience } : {}),
        algorithms: this.#algorithms,
        // A token that never expires is a password that cannot be revoked: refuse it.
        requiredClaims: ['exp', 'sub'],
        ...(this.#options.now ? { currentDate: this.#options.now() } : {}),
      });
      payload = result.payload;
    } catch (error) {
      throw refusal(error);
    }
    const maxLifetimeMs = this.#options.maxLifetimeMs;
    if (maxLifetimeMs !== undefined) {
      const now = (this.#options.now?.() ?? new Date()).getTime();
      if (typeof payload.exp === 'number' && payload.exp * 1000 - now > maxLifetimeMs) {
        throw unauthenticated(`it expires at ${new Date(payload.exp * 1000).toISOString()}, more than ${Math.round(maxLifetimeMs / 1000)} s ahead (auth.oidc_max_token_lifetime_ms)`);
      }
    }
    const principal: Principal = Object.freeze({ id: subjectOf(payload.sub!), role: this.#roleOf(payload), via: 'jwt' as const });
    if (this.#verified.size >= VERIFIED_TOKENS_MAX) this.#verified.clear();
    this.#verified.set(token, { principal, expiresMs: payload.exp! * 1000 });
    return principal;
  }

  #roleOf(payload: JWTPayload): Role {
    const claim = this.#options.roleClaim;
    const value = payload[claim];
    if (value === undefined) {
      throw unauthenticated(`it has no "${claim}" claim, so no role (set auth.jwt_role_claim if the issuer uses another claim)`);
    }
    if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
      throw unauthenticated(`its "${claim}" claim ${quote(value)} is not a role (${ROLES.join(', ')})`);
    }
    return value as Role;
  }
}

/**
 * Principal ids the audit log already gives a meaning (the admin.key, auth switched off, a refused caller): a
 * token naming one of them would pass for it in the audit log.
 */
const RESERVED_SUBJECTS = new Set(['admin', 'anonymous', 'unauthenticated', '*']);
/** The longest message address (sender, receiver: messaging/message.ts). */
const MAX_ADDRESS_LENGTH = 256;
/**
 * A subject is an id in the audit log and a rate-limit key, and its messages' sender is `client:<sub>`: a longer
 * one would make an address that agents cannot reply to and other nodes refuse, so its requests end in silence.
 */
const MAX_SUBJECT_LENGTH = MAX_ADDRESS_LENGTH - CLIENT_PREFIX.length;
/** Subject refusals name the claim in `details.field`, as the API's other refusals name theirs. */
const SUB_FIELD = Object.freeze({ field: 'sub' });

function subjectOf(sub: string): string {
  if (sub.trim() === '') throw unauthenticated('its "sub" claim is empty: a caller needs a name in the audit log', SUB_FIELD);
  if (sub.length > MAX_SUBJECT_LENGTH) {
    const why = `${CLIENT_PREFIX}<sub>, the sender of its messages, must fit in ${MAX_ADDRESS_LENGTH} characters`;
    throw unauthenticated(`its "sub" claim is longer than ${MAX_SUBJECT_LENGTH} characters (${why})`, SUB_FIELD);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(sub)) throw unauthenticated('its "sub" claim holds control characters', SUB_FIELD);
  if (RESERVED_SUBJECTS.has(sub.toLowerCase())) {
    throw unauthenticated(`its "sub" claim ${quote(sub)} is reserved (it would pass for this node's own principal in the audit log)`, SUB_FIELD);
  }
  return sub;
}

/** What verifies bearer JWTs for the node: one issuer's authenticator, or several picked by the token's `iss`. */
export interface TokenAuthenticator {
  authenticate(token: string): Promise<Principal>;
  /** A token verified before and not expired, from memory only (no signature check, no key fetch). */
  known(token: string): Principal | undefined;
}

/**
 * The node's JWT authenticators from its `auth` settings: auth.jwt_issuer (shared secret or JWKS URL) and
 * auth.oidc_issuer (discovery), either or both; none until one is set. With both, a token goes to the one its
 * (not yet verified) `iss` names; it is then verified against that issuer only.
 */
export function jwtAuthenticatorFor(auth: Config['auth'], onJwksError?: (error: unknown) => void): TokenAuthenticator | undefined {
  const byIssuer = new Map<string, JwtAuthenticator>();
  if (auth.jwt_issuer !== undefined) {
    byIssuer.set(
      auth.jwt_issuer,
      new JwtAuthenticator({
        issuer: auth.jwt_issuer,
        audience: auth.jwt_audience,
        secret: auth.jwt_secret,
        jwksUrl: auth.jwt_jwks_url,
        roleClaim: auth.jwt_role_claim,
        onJwksError,
        keySetRetryMs: auth.jwks_retry_ms,
      }),
    );
  }
  if (auth.oidc_issuer !== undefined) {
    byIssuer.set(
      auth.oidc_issuer,
      new JwtAuthenticator({
        issuer: auth.oidc_issuer,
        audience: auth.oidc_audience,
        discover: true,
        maxLifetimeMs: auth.oidc_max_token_lifetime_ms,
        roleClaim: auth.jwt_role_claim,
        onJwksError,
        keySetRetryMs: auth.jwks_retry_ms,
      }),
    );
  }
  if (byIssuer.size === 0) return undefined;
  if (byIssuer.size === 1) return [...byIssuer.values()][0];
  const fallback = byIssuer.get(auth.jwt_issuer!)!;
  return {
    known(token) {
      for (const authenticator of byIssuer.values()) {
        const principal = authenticator.known(token);
        if (principal) return principal;
      }
      return undefined;
    },
    authenticate(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        issuer = undefined;
      }
      // A token naming no configured issuer still gets the full check (and its precise refusal) from one of them.
      return (typeof issuer === 'string' ? byIssuer.get(issuer) : undefined)?.authenticate(token) ?? fallback.authenticate(token);
    },
  };
}

/** Longest wait for the discovery document: an issuer that hangs must not hold requests for long. */
const DISCOVERY_TIMEOUT_MS = 5000;

/**
 * The key set of an OpenID provider, found through its discovery document (fetched on first use and kept once
 * it is valid; a failed fetch is retried by the next request). The document's `issuer` must be exactly the
 * configured one (OpenID Connect Discovery 1.0 §4.3), so a redirect or a proxy cannot substitute another
 * provider's keys.
 */
function discoveredKeys(issuer: string, onError?: (error: unknown) => void): JWTVerifyGetKey {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const url = new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`);
    const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== issuer) throw new Error(`${url}: names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`${url}: no jwks_uri`);
    return jwksKeys(new URL(document.jwks_uri), onError);
  };
  return async (header, token) => {
    keys ??= discover();
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await keys;
    } catch (error) {
      keys = undefined;
      onError?.(error);
      throw new JwksUnavailable('the OpenID discovery document could not be fetched', { cause: error });
    }
    return getKey(header, token);
  };
}

/** Marks a JWKS that could not be fetched, as opposed to a token it does not match. */
class JwksUnavailable extends Error {}

/** auth.jwks_retry_ms's default (config/defaults.ts says why). */
export const KEY_SET_RETRY_MS = 5000;

/**
 * The key set, not fetched again for `retryMs` after a fetch failed: until then a token is refused at once
 * (503). Without it, while the issuer was down every request carrying anything shaped like a JWT (no
 * credentials needed, and a 503 is not a failed login, so its source is never blocked) cost an outbound fetch
 * and a warning with a stack: 2,000 requests from one address, 2,000 fetches and 2,000 lines.
 */
function retriedAfterFailure(getKey: JWTVerifyGetKey, retryMs: number, now?: () => Date): JWTVerifyGetKey {
  let failedAtMs = -Infinity;
  const clock = (): number => (now?.() ?? new Date()).getTime();
  return async (header, token) => {
    const sinceMs = clock() - failedAtMs;
    if (sinceMs < retryMs) {
      throw new JwksUnavailable(`the key set could not be fetched ${Math.round(sinceMs)} ms ago; tried again ${retryMs} ms after (auth.jwks_retry_ms)`);
    }
    try {
      return await getKey(header, token);
    } catch (error) {
      if (error instanceof JwksUnavailable) failedAtMs = clock();
      throw error;
    }
  };
}

function jwksKeys(url: URL, onError?: (error: unknown) => void): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url);
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      if (error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) throw error;
      onError?.(error);
      throw new JwksUnavailable('the JWKS could not be fetched', { cause: error });
    }
  };
}

function unauthenticated(reason: string, details?: Record<string, unknown>): CaxtonError {
  return new CaxtonError('UNAUTHENTICATED', `JWT refused: ${reason}`, details);
}

/** Why jose refused a token, in words a client can act on; nothing about the node's keys. */
function refusal(error: unknown): CaxtonError {
  if (error instanceof JwksUnavailable) {
    return new CaxtonError('UNAVAILABLE', 'cannot verify JWTs right now: the issuer\'s key set (JWKS) could not be fetched');
  }
  if (error instanceof errors.JWTExpired) {
    const exp = error.payload.exp;
    return unauthenticated(typeof exp === 'number' ? `it expired at ${new Date(exp * 1000).toISOString()}` : 'it has expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const value = error.payload[error.claim];
    if (error.reason === 'missing') return unauthenticated(`it has no "${error.claim}" claim`);
    switch (error.claim) {
      case 'iss':
        return unauthenticated(`wrong issuer: ${quote(value)} is not the issuer this node accepts`);
      case 'aud':
        return unauthenticated(`wrong audience: ${quote(value)} does not name this node's audience`);
      case 'nbf':
        return unauthenticated(
          typeof value === 'number' ? `it is not valid before ${new Date(value * 1000).toISOString()}` : 'its "nbf" claim is not a time',
        );
      default:
        return unauthenticated(`its "${error.claim}" claim is invalid (${error.message})`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('bad signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthenticated(`its algorithm is not accepted here (${error.message})`);
  if (error instanceof errors.JWKSMultipleMatchingKeys) return unauthenticated("several keys in the issuer's key set (JWKS) match it: it needs a kid");
  if (error instanceof errors.JWKSNoMatchingKey) return unauthenticated("no key in the issuer's key set (JWKS) matches its kid and algorithm");
  if (error instanceof errors.JOSEError) return unauthenticated(`malformed (${error.message})`);
  // jose throws TypeError for tokens whose parts are not what they claim (e.g. a header that is not JSON).
  if (error instanceof TypeError) return unauthenticated(`malformed (${error.message})`);
  throw error;
}

/** A claim value for a message: short, so a huge claim cannot flood logs and answers. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
