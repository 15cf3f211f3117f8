// `caxton conversation show`: the messages of one conversation, oldest first.
import type { Command } from 'commander';
import type { AclMessage } from '../../messaging/message.ts';
import type { ConversationView } from '../../node/services.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderTable, type Column } from '../output.ts';

const MESSAGE_COLUMNS: Column<AclMessage>[] = [
  { header: 'PERFORMATIVE', value: (m) => m.performative },
  { header: 'SENDER', value: (m) => m.sender },
  { header: 'RECEIVER', value: (m) => m.receiver },
  { header: 'MESSAGE', value: (m) => m.message_id },
  { header: 'CONTENT', value: (m) => m.content },
];

export function registerConversationCommands(program: Command, context: CliContext): void {
  const conversation = program.command('conversation').description('inspect conversations seen by a node');
  withExamples(conversation, 'caxton conversation show <conversation-id>');
  const show = conversation
    .command('show')
    .description('show a conversation: protocol, state and its messages, oldest first')
    .argument('<id>', 'conversation id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<ConversationView>('GET', `/api/v1/conversations/${encodeURIComponent(id)}`);
      print.result(
        body,
        () =>
          `conversation ${body.conversation_id}  protocol ${body.protocol ?? '-'}  state ${body.state}\n` +
          renderTable(MESSAGE_COLUMNS, body.messages),
      );
    });
  withExamples(show, 'caxton conversation show 6f1c2a9e-0d4b-4f57-9a51-2b7f3c1d8e00');
}
