// `caxton security keys list|install|use|remove|generate`: the gossip keyring, cluster-wide, as `serf keys`.
// Rotation without downtime: install NEW, use NEW, remove OLD — each step applied by every live member.
// `caxton security api-keys ...` (the API's keys) lives in api-keys.ts.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { GossipKeyReport } from '../../api/cluster-services.ts';
import type { AnswerShape } from '../answer-shape.ts';
import { CliError } from '../cli-error.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderFields, renderTable, type Column } from '../output.ts';
import { registerApiKeyCommands } from './api-keys.ts';
import { registerPkiCommands } from './security-pki.ts';

type KeyRow = NonNullable<GossipKeyReport['keys']>[number];

const KEY_COLUMNS: Column<KeyRow>[] = [
  { header: 'KEY', value: (k) => k.key },
  { header: 'INSTALLED ON', value: (k) => String(k.installed) },
  { header: 'PRIMARY ON', value: (k) => String(k.primary) },
];

/** What the key commands read of a keyring report (checked: answer-shape.ts). */
const KEY_REPORT: AnswerShape = { op: 'string', members: 'number', applied: 'number', failed: 'list', skipped: 'strings', keys: 'list?' };

function summary(report: GossipKeyReport): string {
  const lines = renderFields([
    ['operation', report.op],
    ['applied', `${report.applied} of ${report.members} members`],
    ...(report.skipped.length > 0 ? ([['skipped (not Caxton)', report.skipped.join(', ')]] as Array<[string, string]>) : []),
  ]);
  const failures = report.failed.map((f) => `failed on ${f.node}: ${f.error}\n`).join('');
  return lines + failures;
}

export function registerSecurityCommands(program: Command, context: CliContext): void {
  const security = program.command('security').description('security: the gossip encryption keyring, the API keys, the routing PKI');
  const keys = security.command('keys').description('gossip keys on every live member (as `serf keys`)');
  withExamples(
    keys,
    'caxton security keys list',
    'caxton security keys install NEW_KEY && caxton security keys use NEW_KEY && caxton security keys remove OLD_KEY',
  );

  keys
    .command('list')
    .description('every key installed in the cluster, with how many members hold it and use it as primary')
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<GossipKeyReport>('GET', '/api/v1/security/keys', { expect: KEY_REPORT });
      print.result(body, () => renderTable(KEY_COLUMNS, body.keys ?? []) + summary(body));
    });

  for (const [op, description] of [
    ['install', 'add a key to every member\'s keyring (they decrypt with it from now on)'],
    ['use', 'make an installed key the primary on every member (they encrypt with it from now on)'],
    ['remove', 'remove a key that is no longer primary from every member'],
  ] as const) {
    keys
      .command(`${op} <key>`)
      .description(description)
      .action(async (key: string, _options: unknown, command: Command) => {
        const { client, print } = await sessionFor(command, context);
        const { body } = await client.request<GossipKeyReport>('POST', `/api/v1/security/keys/${op}`, { body: { key }, expect: KEY_REPORT });
        print.result(body, () => summary(body));
        if (body.failed.length > 0) throw new CliError(`${op} failed on ${body.failed.length} of ${body.members} members`);
      });
  }

  keys
    .command('generate')
    .description('print a new random 32-byte key in base64 (as `serf keygen`)')
    .action(() => {
      process.stdout.write(`${randomBytes(32).toString('base64')}\n`);
    });

  registerApiKeyCommands(security, context);
  registerPkiCommands(security, context);
}
