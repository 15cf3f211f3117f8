// `caxton queue dead-letters`: what could not be delivered, and purging it.
import type { Command } from 'commander';
import type { DeadLetter, DeadLetterPage } from '../../node/services.ts';
import { positiveInt, sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const DEAD_LETTER_COLUMNS: Column<DeadLetter>[] = [
  { header: 'ID', value: (d) => String(d.id) },
  { header: 'TIME', value: (d) => d.ts },
  { header: 'REASON', value: (d) => d.reason },
  { header: 'PERFORMATIVE', value: (d) => d.message.performative },
  { header: 'SENDER', value: (d) => d.message.sender },
  { header: 'RECEIVER', value: (d) => d.message.receiver },
];

/** A cut answer (its page size, or api.max_answer_bytes) says so, and how to see the rest. */
function continuation(page: DeadLetterPage): string {
  if (!page.truncated || page.next_before_id === undefined) return '';
  return `\nolder dead letters follow: caxton queue dead-letters --before-id ${page.next_before_id}\n`;
}

export function registerQueueCommands(program: Command, context: CliContext): void {
  const queue = program.command('queue').description("a node's message queues");
  withExamples(queue, 'caxton queue dead-letters');
  const deadLetters = queue
    .command('dead-letters')
    .description('list the messages that could not be delivered; --purge removes them')
    .option('--purge', 'remove every dead letter (needs operator or admin)')
    .option('--before-id <id>', 'the dead letters older than this id: what a cut answer says to pass to see the rest', positiveInt)
    .action(async (options: { purge?: boolean; beforeId?: number }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      if (options.purge) {
        const { body } = await client.request<{ purged: number }>('DELETE', '/api/v1/dead-letters', { expect: { purged: 'number' } });
        print.result(body, () => `purged ${body.purged} dead letter${body.purged === 1 ? '' : 's'}\n`);
        return;
      }
      const { body } = await client.request<DeadLetterPage>('GET', '/api/v1/dead-letters', {
        expect: { dead_letters: 'list', truncated: 'boolean?', next_before_id: 'number?' },
        query: { before_id: options.beforeId },
      });
      print.result(body, () =>
        (body.dead_letters.length ? renderTable(DEAD_LETTER_COLUMNS, body.dead_letters) : 'no dead letters\n') + continuation(body),
      );
    });
  withExamples(deadLetters, 'caxton queue dead-letters', 'caxton queue dead-letters --before-id 1200', 'caxton queue dead-letters --purge');
}
