// Loads a node's configuration: defaults < caxton.yaml < CAXTON_<SECTION>_<KEY> env vars < flags. Every value
// is checked against its key's schema in the layer it came from, so an error names both the key and where
// the bad value was written; an unknown key stops start-up (a typo must not silently keep a default).
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from './config-error.ts';
import { DEFAULTS, type ConfigDefaults } from './defaults.ts';
import { FLAG_TO_KEY } from './flags.ts';
import { isLoopbackHost, parseHostPort } from './host-port.ts';
import { FIELDS, fieldOf, type Field } from './schema.ts';

type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The loaded configuration: every key of DEFAULTS, validated, frozen. */
export type Config = DeepReadonly<ConfigDefaults>;

export const ENV_PREFIX = 'CAXTON_';
/** Names the configuration file when --config is absent. */
export const CONFIG_FILE_ENV = 'CAXTON_CONFIG';
/** CAXTON_ variables of the CLI client (interfaces.md): not node settings, so not "unknown keys". */
const CLIENT_ENV = new Set(['CAXTON_SERVER', 'CAXTON_API_KEY', 'CAXTON_CACERT', 'CAXTON_CERT', 'CAXTON_KEY', CONFIG_FILE_ENV]);
/**
 * Variables the CLI documents that also name a node setting: CAXTON_DATA_DIR is the data dir the CLI reads
 * admin.key from, so the node started beside it uses the same one. CAXTON_NODE_DATA_DIR, when also set, wins.
 */
const ENV_ALIASES: ReadonlyMap<string, string> = new Map([['CAXTON_DATA_DIR', 'CAXTON_NODE_DATA_DIR']]);

export interface LoadConfigInput {
  /**
   * Commander's parsed options of `caxton server start` (camelCase names, see SERVER_START_FLAGS); a name
   * with a dot is taken as a configuration key (`{'agents.fuel': 5}`). Other names are ignored.
   */
  flags?: Record<string, unknown>;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Path of caxton.yaml; defaults to flags.config, then $CAXTON_CONFIG; none = no file. */
  file?: string;
}

interface Setting {
  section: string;
  key: string;
  value: unknown;
  /** Where it was written, for error messages: `in caxton.yaml`, `env CAXTON_API_ADDR`, `flag --api-addr`. */
  source: string;
}

export function loadConfig(input: LoadConfigInput = {}): Config {
  const flags = input.flags ?? {};
  const env = input.env ?? process.env;
  const file = input.file ?? (typeof flags.config === 'string' ? flags.config : undefined) ?? (env[CONFIG_FILE_ENV] || undefined);

  const layers = [file ? fileSettings(file) : [], envSettings(env), flagSettings(flags)];
  const merged = structuredClone(DEFAULTS) as unknown as Record<string, Record<string, unknown>>;
  for (const layer of layers) {
    for (const setting of layer) merged[setting.section][setting.key] = validate(setting);
  }
  checkAcrossKeys(merged as unknown as ConfigDefaults);
  return deepFreeze(merged) as unknown as Config;
}

function validate({ section, key, value, source }: Setting): unknown {
  const field = fieldOf(section, key) as Field;
  const result = field.schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(`${section}.${key}: ${result.error.issues[0].message} (${source})`, `${section}.${key}`);
}

function fileSettings(path: string): Setting[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the configuration file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` line ${error.linePos[0].line}` : '';
    throw new ConfigError(`${path}${where}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return [];
  if (!isPlainObject(document)) throw new ConfigError(`${path}: expected a mapping of sections (node, api, cluster, ...)`);
  const settings: Setting[] = [];
  for (const [section, body] of Object.entries(document)) {
    if (!Object.hasOwn(FIELDS, section)) throw new ConfigError(`unknown key ${section} in ${path}`, section);
    if (body === null) continue;
    if (!isPlainObject(body)) throw new ConfigError(`${section}: expected a mapping of keys (in ${path})`, section);
    for (const [key, value] of Object.entries(body)) {
      const field = fieldOf(section, key);
      if (!field) throw new ConfigError(`unknown key ${section}.${key} in ${path}`, `${section}.${key}`);
      settings.push({
        section,
        key,
        value: field.kind === 'list' && typeof value === 'string' ? fromText('list', value) : value,
        source: `in ${path}`,
      });
    }
  }
  return settings;
}

function envSettings(env: Record<string, string | undefined>): Setting[] {
  const settings: Setting[] = [];
  const entries = Object.entries(env).flatMap(([name, raw]): [string, string | undefined][] => {
    const target = ENV_ALIASES.get(name);
    if (target === undefined) return [[name, raw]];
    return env[target] ? [] : [[target, raw]];
  });
  for (const [name, raw] of entries) {
    if (!name.startsWith(ENV_PREFIX) || CLIENT_ENV.has(name) || raw === undefined || raw === '') continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    const split = rest.indexOf('_');
    const section = split > 0 ? rest.slice(0, split) : rest;
    const key = split > 0 ? rest.slice(split + 1) : '';
    const field = fieldOf(section, key);
    if (!field) throw new ConfigError(`unknown key ${section}${key ? '.' + key : ''} (env ${name})`, `${section}.${key}`);
    settings.push({ section, key, value: fromText(field.kind, raw), source: `env ${name}` });
  }
  return settings;
}

function flagSettings(flags: Record<string, unknown>): Setting[] {
  const settings: Setting[] = [];
  for (const [option, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    const dotted = FLAG_TO_KEY.get(option) ?? (option.includes('.') ? option : null);
    if (dotted === null) continue;
    const [section, key] = dotted.split('.', 2);
    const field = fieldOf(section, key);
    if (!field) throw new ConfigError(`unknown key ${dotted} (flag)`, dotted);
    const source = FLAG_TO_KEY.has(option) ? `flag --${option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` : `flag ${dotted}`;
    let value: unknown = raw;
    if (field.kind === 'list' && Array.isArray(raw)) value = raw.flatMap((item) => (typeof item === 'string' ? fromText('list', item) : [item]));
    else if (typeof raw === 'string') value = fromText(field.kind, raw);
    settings.push({ section, key, value, source });
  }
  return settings;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A value written as text, read as its key's kind; left as text when it does not parse, so the schema names the problem. */
export function fromText(kind: Field['kind'], text: string): unknown {
  const trimmed = text.trim();
  switch (kind) {
    case 'integer':
      // Underscores as digit separators, as in YAML 1.1 and the defaults file: 10_000_000.
      return /^[+-]?\d(_?\d)*$/.test(trimmed) ? Number(trimmed.replace(/_/g, '')) : text;
    case 'boolean':
      if (TRUE.has(trimmed.toLowerCase())) return true;
      if (FALSE.has(trimmed.toLowerCase())) return false;
      return text;
    case 'list':
      return trimmed
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'string':
      return trimmed;
    case 'json':
      // A structured key (mcp.servers) given in an env var or flag: JSON text; left as text when it is not.
      try {
        return JSON.parse(trimmed) as unknown;
      } catch {
        return text;
      }
  }
}

function checkAcrossKeys(config: ConfigDefaults): void {
  if (config.auth.insecure_no_auth) {
    const api = parseHostPort(config.api.addr);
    if (!api || !isLoopbackHost(api.host)) {
      throw new ConfigError(
        `auth.insecure_no_auth: refused because api.addr ${config.api.addr} is not a loopback address ` +
          '(authentication can only be switched off for 127.0.0.1, ::1 or localhost)',
        'auth.insecure_no_auth',
      );
    }
  }
  if (config.state.backend === 'postgres' && config.state.postgres_url === undefined) {
    throw new ConfigError('state.backend: postgres needs state.postgres_url (postgres://user:password@host:port/db)', 'state.backend');
  }
  if (config.gossip.probe_timeout_ms >= config.gossip.probe_interval_ms) {
    throw new ConfigError(
      `gossip.probe_timeout_ms: must be less than gossip.probe_interval_ms (${config.gossip.probe_timeout_ms} >= ${config.gossip.probe_interval_ms})`,
      'gossip.probe_timeout_ms',
    );
  }
  checkJwtKeys(config.auth);
  checkOidcKeys(config.auth);
  checkTlsKeys(config.api);
  checkAgentCeilings(config.agents);
}

/** A default above its ceiling would refuse every deploy that names no limits. */
function checkAgentCeilings(agents: ConfigDefaults['agents']): void {
  if (agents.fuel > agents.max_fuel) {
    throw new ConfigError(`agents.fuel: must not exceed agents.max_fuel (${agents.fuel} > ${agents.max_fuel})`, 'agents.fuel');
  }
  if (agents.worker_stall_ms <= agents.max_invocation_ms) {
    throw new ConfigError(
      `agents.worker_stall_ms: must exceed agents.max_invocation_ms (${agents.worker_stall_ms} <= ${agents.max_invocation_ms}): the fuel meter ends a slow invocation first`,
      'agents.worker_stall_ms',
    );
  }
  if (agents.memory_pages > agents.max_memory_pages) {
    throw new ConfigError(
      `agents.memory_pages: must not exceed agents.max_memory_pages (${agents.memory_pages} > ${agents.max_memory_pages})`,
      'agents.memory_pages',
    );
  }
}

/** An OpenID provider issues tokens for many services: its audience must be named. */
function checkOidcKeys(auth: ConfigDefaults['auth']): void {
  if (auth.oidc_issuer === undefined) {
    if (auth.oidc_audience !== undefined) {
      throw new ConfigError('auth.oidc_audience: OIDC tokens are only accepted once auth.oidc_issuer is set; set it too, or remove this key', 'auth.oidc_audience');
    }
    return;
  }
  if (auth.oidc_audience === undefined) {
    throw new ConfigError(
      'auth.oidc_issuer: set auth.oidc_audience too (the audience of the tokens meant for this node), or the provider\'s tokens for any other service would open it',
      'auth.oidc_audience',
    );
  }
  if (auth.oidc_issuer === auth.jwt_issuer) {
    throw new ConfigError('auth.oidc_issuer: the same issuer as auth.jwt_issuer; configure it once', 'auth.oidc_issuer');
  }
}

/** TLS settings only act together, like the JWT ones. */
function checkTlsKeys(api: ConfigDefaults['api']): void {
  if ((api.tls_cert === undefined) !== (api.tls_key === undefined)) {
    const missing = api.tls_cert === undefined ? 'tls_cert' : 'tls_key';
    throw new ConfigError(`api.${missing}: api.tls_cert and api.tls_key go together (the certificate and its key); set both or neither`, `api.${missing}`);
  }
  if (api.tls_client_ca !== undefined && api.tls_cert === undefined) {
    throw new ConfigError('api.tls_client_ca: client certificates need the API served over TLS; set api.tls_cert and api.tls_key too', 'api.tls_client_ca');
  }
  if (api.tls_client_roles.length > 0 && api.tls_client_ca === undefined) {
    throw new ConfigError('api.tls_client_roles: no client certificate is verified without api.tls_client_ca; set it too, or remove this key', 'api.tls_client_roles');
  }
}

/** JWT settings only act together: a key set without its partners would silently do nothing. */
function checkJwtKeys(auth: ConfigDefaults['auth']): void {
  if (auth.jwt_issuer === undefined) {
    for (const key of ['jwt_secret', 'jwt_jwks_url', 'jwt_audience'] as const) {
      if (auth[key] !== undefined) {
        throw new ConfigError(`auth.${key}: JWTs are only accepted once auth.jwt_issuer is set; set it too, or remove this key`, `auth.${key}`);
      }
    }
    return;
  }
  const secret = auth.jwt_secret !== undefined;
  const jwks = auth.jwt_jwks_url !== undefined;
  if (secret === jwks) {
    throw new ConfigError(
      `auth.jwt_issuer: set exactly one of auth.jwt_secret (HS256/384/512) and auth.jwt_jwks_url (the issuer's public keys), ${secret ? 'not both' : 'got neither'}`,
      'auth.jwt_issuer',
    );
  }
}

const REDACTED = '<redacted>';

/** A copy safe to log: secrets (gossip key, JWT secret) replaced. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, fields] of Object.entries(FIELDS)) {
    for (const [key, field] of Object.entries(fields as Record<string, Field>)) {
      if (field.secret && copy[section][key] !== undefined) copy[section][key] = REDACTED;
    }
  }
  return copy as unknown as Config;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
