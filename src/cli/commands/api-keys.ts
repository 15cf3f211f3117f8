// `caxton security api-keys create|list|revoke`: the node's API keys (admin only). The key itself is printed
// once, at creation: the node keeps only its hash.
import { type Command, Option } from 'commander';
import type { ApiKeyView, CreatedApiKeyView } from '../../api/api-key-services.ts';
import { ROLES } from '../../api/permissions.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const KEY_COLUMNS: Column<ApiKeyView>[] = [
  { header: 'NAME', value: (k) => k.name },
  { header: 'ROLE', value: (k) => k.role },
  { header: 'CREATED', value: (k) => k.created_at },
];

export function registerApiKeyCommands(security: Command, context: CliContext): void {
  const apiKeys = security.command('api-keys').description("the node's API keys: who may call its API, with which role");
  withExamples(
    apiKeys,
    'caxton security api-keys create --role deployer --name ci',
    'caxton security api-keys list',
    'caxton security api-keys revoke ci',
  );

  apiKeys
    .command('create')
    .description('create a key for a role and print it (shown only this once)')
    .addOption(new Option('--role <role>', 'what the key may do').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--name <name>', 'a unique name: the audit log shows it as the caller')
    .action(async (options: { role: string; name: string }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<CreatedApiKeyView>('POST', '/api/v1/security/api-keys', {
        expect: { name: 'string', role: 'string', key: 'string' },
        body: { name: options.name, role: options.role },
      });
      print.result(body, () => `created API key '${body.name}' (role ${body.role}); it is shown only this once:\n${body.key}\n`);
    });

  apiKeys
    .command('list')
    .description('every key: name, role, creation time (never the key itself)')
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ api_keys: ApiKeyView[] }>('GET', '/api/v1/security/api-keys', { expect: { api_keys: 'list' } });
      print.result(body, () => renderTable(KEY_COLUMNS, body.api_keys));
    });

  apiKeys
    .command('revoke <name>')
    .description('revoke a key: the next request with it is refused')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      await client.request('DELETE', `/api/v1/security/api-keys/${encodeURIComponent(name)}`);
      print.result({ revoked: name }, () => `revoked API key '${name}'\n`);
    });
}
