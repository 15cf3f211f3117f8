// JWT bearer tokens (interfaces.md "Authentication and roles"): verified with jose against one issuer, either
// with a shared HMAC secret or with the issuer's JWKS, then mapped to a Principal (id = `sub`, role from a
// claim). A refused token says why (expired, wrong issuer, bad signature, ...) and never what the node holds.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ROLES } from '../api/permissions.ts';
import type { Config } from '../config/config.ts';
import { CaxtonError } from '../errors.ts';
import type { Principal, Role } from './services.ts';

/** With a shared secret only HMAC is accepted, so a token can never pick a weaker or asymmetric check. */
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
/** With a JWKS only public-key algorithms: an HS token must not be "verified" with a public key as its secret. */
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

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
  /** Exactly one of secret and jwksUrl (the config check guarantees it). */
  secret?: string;
  jwksUrl?: string;
  /** The claim holding the role. */
  roleClaim: string;
  /** Told when the JWKS cannot be fetched (the caller gets 503 without the URL; the operator needs it). */
  onJwksError?: (error: unknown) => void;
  /** Injected for tests; defaults to the system clock. */
  now?: () => Date;
}

export class JwtAuthenticator {
  readonly #options: JwtAuthOptions;
  readonly #key: Uint8Array | JWTVerifyGetKey;
  readonly #algorithms: string[];

  constructor(options: JwtAuthOptions) {
    if ((options.secret === undefined) === (options.jwksUrl === undefined)) {
      throw new Error('JwtAuthenticator: give exactly one of secret and jwksUrl');
    }
    this.#options = options;
    if (options.secret !== undefined) {
      this.#key = new TextEncoder().encode(options.secret);
      this.#algorithms = HMAC_ALGORITHMS;
    } else {
      this.#key = jwksKeys(new URL(options.jwksUrl!), options.onJwksError);
      this.#algorithms = PUBLIC_KEY_ALGORITHMS;
    }
  }

  /** The principal of a valid token; throws UNAUTHENTICATED with the reason, or UNAVAILABLE when the JWKS is unreachable. */
  async authenticate(token: string): Promise<Principal> {
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
    return { id: subjectOf(payload.sub!), role: this.#roleOf(payload), via: 'jwt' };
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
/** A subject is an id in the audit log and a rate-limit key: bounded, printable. */
const MAX_SUBJECT_LENGTH = 256;

function subjectOf(sub: string): string {
  if (sub.trim() === '') throw unauthenticated('its "sub" claim is empty: a caller needs a name in the audit log');
  if (sub.length > MAX_SUBJECT_LENGTH) throw unauthenticated(`its "sub" claim is longer than ${MAX_SUBJECT_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(sub)) throw unauthenticated('its "sub" claim holds control characters');
  if (RESERVED_SUBJECTS.has(sub.toLowerCase())) {
    throw unauthenticated(`its "sub" claim ${quote(sub)} is reserved (it would pass for this node's own principal in the audit log)`);
  }
  return sub;
}

/** The node's authenticator from its `auth` settings; none until auth.jwt_issuer is set. */
export function jwtAuthenticatorFor(auth: Config['auth'], onJwksError?: (error: unknown) => void): JwtAuthenticator | undefined {
  if (auth.jwt_issuer === undefined) return undefined;
  return new JwtAuthenticator({
    issuer: auth.jwt_issuer,
    audience: auth.jwt_audience,
    secret: auth.jwt_secret,
    jwksUrl: auth.jwt_jwks_url,
    roleClaim: auth.jwt_role_claim,
    onJwksError,
  });
}

/** Marks a JWKS that could not be fetched, as opposed to a token it does not match. */
class JwksUnavailable extends Error {}

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

function unauthenticated(reason: string): CaxtonError {
  return new CaxtonError('UNAUTHENTICATED', `JWT refused: ${reason}`);
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
