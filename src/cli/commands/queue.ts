// `caxton queue dead-letters`: what could not be delivered, and purging it.
import type { Command } from 'commander';
import type { DeadLetter } from '../../node/services.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const DEAD_LETTER_COLUMNS: Column<DeadLetter>[] = [
  { header: 'ID', value: (d) => String(d.id) },
  { header: 'TIME', value: (d) => d.ts },
  { header: 'REASON', value: (d) => d.reason },
  { header: 'PERFORMATIVE', value: (d) => d.message.performative },
  { header: 'SENDER', value: (d) => d.message.sender },
  { header: 'RECEIVER', value: (d) => d.message.receiver },
];

export function registerQueueCommands(program: Command, context: CliContext): void {
  const queue = program.command('queue').description("a node's message queues");
  withExamples(queue, 'caxton queue dead-letters');
  const deadLetters = queue
    .command('dead-letters')
    .description('list the messages that could not be delivered; --purge removes them')
    .option('--purge', 'remove every dead letter (needs operator or admin)')
    .action(async (options: { purge?: boolean }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      if (options.purge) {
        const { body } = await client.request<{ purged: number }>('DELETE', '/api/v1/dead-letters', { expect: { purged: 'number' } });
        print.result(body, () => `purged ${body.purged} dead letter${body.purged === 1 ? '' : 's'}\n`);
        return;
      }
      const { body } = await client.request<{ dead_letters: DeadLetter[] }>('GET', '/api/v1/dead-letters', { expect: { dead_letters: 'list' } });
      print.result(body, () =>
        body.dead_letters.length ? renderTable(DEAD_LETTER_COLUMNS, body.dead_letters) : 'no dead letters\n',
      );
    });
  withExamples(deadLetters, 'caxton queue dead-letters', 'caxton queue dead-letters --purge');
}
