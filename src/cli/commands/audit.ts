// `caxton audit list|export`: who did what, read back from a node's audit log (admin only).
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import type { AuditRecord } from '../../state/audit-log.ts';
import { positiveInt, sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const AUDIT_COLUMNS: Column<AuditRecord>[] = [
  { header: 'ID', value: (e) => String(e.id) },
  { header: 'TIME', value: (e) => e.ts },
  { header: 'PRINCIPAL', value: (e) => e.principal },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'TARGET', value: (e) => e.target ?? '' },
  { header: 'OUTCOME', value: (e) => e.outcome },
  // An aggregated row stands for many calls: how many, and from where (one address, or how many).
  { header: 'COUNT', value: (e) => String(typeof e.details?.count === 'number' ? e.details.count : 1) },
  { header: 'FROM', value: fromOf },
];

function fromOf(e: AuditRecord): string {
  if (typeof e.details?.ip === 'string') return e.details.ip;
  return typeof e.details?.sources === 'number' ? `${e.details.sources} addresses` : '';
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an RFC 3339 time, or how long ago (30m, 12h, 7d). */
export function sinceOption(value: string, now = Date.now()): string {
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2]]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}(T|$)/.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  throw new InvalidArgumentError('expected an RFC 3339 time (2026-12-04T10:00:00Z) or a duration ago (30m, 12h, 7d)');
}

interface FilterOptions {
  since?: string;
  principal?: string;
  action?: string;
  denied?: boolean;
}

function withFilters(command: Command): Command {
  return command
    .option('--since <time>', 'entries from this time on: RFC 3339, or a duration ago (30m, 12h, 7d)', (v) => sinceOption(v))
    .option('--principal <id>', 'only this principal (an API key name, agent:<name>, anonymous, unauthenticated)')
    .option('--action <text>', 'only actions containing this text (e.g. "DELETE /api/v1/agents", call_tool)')
    .option('--denied', 'only denied calls');
}

const queryOf = (o: FilterOptions) => ({ since: o.since, principal: o.principal, action: o.action, denied: o.denied ? 'true' : undefined });

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description("a node's audit log: every mutating and every denied call (admin only)");
  withExamples(audit, 'caxton audit list --denied --since 1h', 'caxton audit export > audit.jsonl');

  const list = withFilters(audit.command('list').description('audit entries, newest first'))
    .option('--limit <n>', 'at most this many entries (default 100, at most 1000)', positiveInt)
    .action(async (options: FilterOptions & { limit?: number }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ entries: AuditRecord[] }>('GET', '/api/v1/audit', {
        expect: { entries: 'list' },
        query: { ...queryOf(options), limit: options.limit },
      });
      print.result(body, () => (body.entries.length ? renderTable(AUDIT_COLUMNS, body.entries) : 'no audit entries match\n'));
    });
  withExamples(list, 'caxton audit list', 'caxton audit list --principal ci-deployer --since 7d', 'caxton audit list --action "DELETE /api/v1/agents"');

  const exported = withFilters(audit.command('export').description('every matching entry, oldest first, as JSON lines'))
    .option('--file <path>', 'write to this file instead of standard output')
    .action(async (options: FilterOptions & { file?: string }, command: Command) => {
      const { client } = await sessionFor(command, context);
      const body = await client.stream('/api/v1/audit/export', { query: queryOf(options) });
      await pipeline(Readable.from(body), options.file ? createWriteStream(options.file, { mode: 0o600 }) : process.stdout);
    });
  withExamples(exported, 'caxton audit export --file audit.jsonl', 'caxton audit export --denied --since 2026-12-01T00:00:00Z');
}
