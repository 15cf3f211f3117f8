// A real PostgreSQL server for one test file (or one benchmark): initdb into a temp dir, a free port on
// loopback, run as a non-root user (PostgreSQL refuses to run as root; the tests run as root here and in
// CI, so the server runs as the `postgres` system user that Debian's package creates), stopped and its
// directory removed at the end. Tests skip loudly when the binaries are absent (.ci/run installs them).
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Debian puts each major version's server binaries here; the newest one found is used. */
const POSTGRES_LIB = '/usr/lib/postgresql';
/** The system user the server runs as when the tests run as root. */
const SERVER_USER = 'postgres';
/** The database superuser initdb creates (trust authentication on loopback only). */
const SUPERUSER = 'caxton';

export interface PostgresServer {
  /** postgres://caxton@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** A URL of a fresh database on this server (CREATE DATABASE). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * fsync and synchronous commit as in production (benchmarks). Tests leave it off: they check behaviour,
   * and every commit then costs no disk flush on a shared machine.
   */
  durable?: boolean;
}

/** The bin directory of the newest installed PostgreSQL, or null when none is installed. */
export function postgresBinDir(): string | null {
  if (!existsSync(POSTGRES_LIB)) return null;
  const versions = readdirSync(POSTGRES_LIB)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(POSTGRES_LIB, v, 'bin', 'initdb')) && existsSync(join(POSTGRES_LIB, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(POSTGRES_LIB, versions[0], 'bin') : null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. Printed by the tests that skip. */
export function postgresUnavailableReason(): string | null {
  if (!postgresBinDir()) return `PostgreSQL is not installed (no ${POSTGRES_LIB}/<version>/bin/initdb): apt-get install postgresql (.ci/run does)`;
  if (userInfo().uid === 0) {
    try {
      execFileSync('id', ['-u', SERVER_USER], { stdio: 'ignore' });
    } catch {
      return `running as root and there is no '${SERVER_USER}' user to run PostgreSQL as`;
    }
  }
  return null;
}

/** argv to run `binary` as the server user: directly when we are not root, through runuser when we are. */
function asServerUser(binary: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', SERVER_USER, '--', binary, ...args]] : [binary, args];
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const unavailable = postgresUnavailableReason();
  if (!bin || unavailable) throw new Error(unavailable ?? 'PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'caxton-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', SERVER_USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', SERVER_USER]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const pgCtl = join(bin, 'pg_ctl');
  let started = false;
  let stopped = false;

  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopNow);
    if (started) {
      try {
        const [cmd, args] = asServerUser(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '20']);
        execFileSync(cmd, args, { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run that dies without afterAll still stops its server.
  process.on('exit', stopNow);

  try {
    const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), [
      '-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions',
    ]);
    await run(initCmd, initArgs, { cwd: dir });
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${dir}`,
      '-c shared_buffers=32MB',
      '-c max_connections=60',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ].join(' ');
    const [startCmd, startArgs] = asServerUser(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', settings]);
    await run(startCmd, startArgs, { cwd: dir });
    started = true;
    const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits and _ only`);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        stopNow();
      },
    };
  } catch (error) {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').slice(-2000);
    } catch {
      // No log yet.
    }
    stopNow();
    throw new Error(`cannot start PostgreSQL: ${(error as Error).message}${log ? `\n${log}` : ''}`);
  }
}
