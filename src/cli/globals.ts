// The options every command shares, resolved flag > environment > default, and the API key read from
// a local node's data directory when none is given.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, EXIT_USAGE } from './cli-error.ts';
import { ApiClient, type ClientTls } from './client.ts';
import type { CliIo, OutputFormat } from './output.ts';
import { Printer } from './output.ts';

export const CLI_DEFAULTS = {
  /** Where `npm start` puts the API of a single local node. */
  server: 'http://127.0.0.1:8080',
  /** Where `npm start` keeps its data, admin.key included. */
  dataDir: './.caxton',
  output: 'table' as OutputFormat,
};

export interface GlobalFlags {
  server?: string;
  apiKey?: string;
  dataDir?: string;
  output?: OutputFormat;
  /** PEM files: the CA that signed the node's certificate, and this client's certificate and key (mTLS). */
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface Session {
  client: ApiClient;
  print: Printer;
}

/** --server, else CAXTON_SERVER, else the default; an http(s) URL, or a usage error naming where it came from. */
export function resolveServer(flags: GlobalFlags, env: NodeJS.ProcessEnv): string {
  const server = (flags.server ?? env.CAXTON_SERVER ?? CLI_DEFAULTS.server).replace(/\/+$/, '');
  let protocol: string | undefined;
  try {
    protocol = new URL(server).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    const from = flags.server !== undefined ? '--server' : 'CAXTON_SERVER';
    throw new CliError(`${from} ${JSON.stringify(server)} is not an http(s) URL, e.g. ${CLI_DEFAULTS.server}`, EXIT_USAGE);
  }
  return server;
}

/** What a Bearer token may hold: visible ASCII (an HTTP header value; a newline or a non-ASCII letter is none). */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

/** Flag, then CAXTON_API_KEY, then `<data-dir>/admin.key` of a local node; none at all is allowed
 *  (a node started with --insecure-no-auth needs none). */
export async function resolveApiKey(flags: GlobalFlags, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const explicit = flags.apiKey ?? env.CAXTON_API_KEY;
  if (explicit) {
    // Checked here: fetch refuses such a header before any connection, which read as "cannot reach the server".
    if (!TOKEN_CHARACTERS.test(explicit)) {
      throw new CliError(`${flags.apiKey !== undefined ? '--api-key' : 'CAXTON_API_KEY'} holds a character no API key or JWT has (a space, a line break, a non-ASCII letter?)`, EXIT_USAGE);
    }
    return explicit;
  }
  const dataDir = flags.dataDir ?? env.CAXTON_DATA_DIR ?? CLI_DEFAULTS.dataDir;
  const file = join(dataDir, 'admin.key');
  let key: string;
  try {
    key = (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
  if (key !== '' && !TOKEN_CHARACTERS.test(key)) throw new CliError(`${file} holds a character no API key has: is it a Caxton node's admin.key?`);
  return key || undefined;
}

/** --cacert/--cert/--key, else CAXTON_CACERT/CAXTON_CERT/CAXTON_KEY, read now so a bad path is one clear error. */
export async function resolveTls(flags: GlobalFlags, env: NodeJS.ProcessEnv): Promise<ClientTls | undefined> {
  const paths = { ca: flags.cacert ?? env.CAXTON_CACERT, cert: flags.cert ?? env.CAXTON_CERT, key: flags.key ?? env.CAXTON_KEY };
  if (!paths.ca && !paths.cert && !paths.key) return undefined;
  if (!paths.cert !== !paths.key) throw new CliError('--cert and --key go together (a client certificate and its key)', 2);
  const tls: ClientTls = {};
  for (const [name, path] of Object.entries(paths) as [keyof ClientTls, string | undefined][]) {
    if (!path) continue;
    try {
      tls[name] = await readFile(path);
    } catch (error) {
      throw new CliError(`cannot read --${name === 'ca' ? 'cacert' : name} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return tls;
}

export async function openSession(flags: GlobalFlags, env: NodeJS.ProcessEnv, io: CliIo): Promise<Session> {
  const client = new ApiClient(resolveServer(flags, env), await resolveApiKey(flags, env), await resolveTls(flags, env));
  return { client, print: new Printer(io, flags.output ?? CLI_DEFAULTS.output) };
}
