// `caxton conversation show`: one conversation as a timeline, oldest first: protocol and state on top, then
// each participant's part, then one line per message (sender → receiver, performative, short content).
import type { Command } from 'commander';
import type { AclMessage } from '../../messaging/message.ts';
import type { ConversationView } from '../../node/services.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { cell, renderTable, type Column } from '../output.ts';

/** Content longer than this is cut in the timeline; `--output json` has all of it. */
const CONTENT_CHARS = 60;

/** A host-made error shows as its code (what a reader looks for), anything else as compact JSON, cut short. */
export function shortContent(content: unknown): string {
  const error = (content as { error?: { code?: unknown } } | null)?.error;
  if (error && typeof error.code === 'string') return `error ${error.code}`;
  const text = cell(content);
  return text.length > CONTENT_CHARS ? `${text.slice(0, CONTENT_CHARS - 1)}…` : text;
}

function receivers(message: AclMessage): string {
  const list = typeof message.receiver === 'string' ? [message.receiver] : message.receiver;
  return list.length > 3 ? `${list.slice(0, 3).join(',')},…(${list.length})` : list.join(',');
}

const TIMELINE_COLUMNS: Column<[number, AclMessage]>[] = [
  { header: '#', value: ([i]) => String(i + 1) },
  { header: 'FROM', value: ([, m]) => m.sender },
  { header: '', value: () => '→' },
  { header: 'TO', value: ([, m]) => receivers(m) },
  { header: 'PERFORMATIVE', value: ([, m]) => m.performative },
  { header: 'REPLY BY', value: ([, m]) => m.reply_by },
  { header: 'CONTENT', value: ([, m]) => shortContent(m.content) },
];

type Participant = NonNullable<ConversationView['participants']>[number];
const PARTICIPANT_COLUMNS: Column<Participant>[] = [
  { header: 'PARTICIPANT', value: (p) => p.name },
  { header: 'STATE', value: (p) => p.state },
  { header: 'REPLY BY', value: (p) => p.reply_by },
];

export function renderTimeline(view: ConversationView): string {
  let text = `conversation ${view.conversation_id}  protocol ${view.protocol ?? '-'}  state ${view.state}\n`;
  if (view.participants?.length) text += `\n${renderTable(PARTICIPANT_COLUMNS, view.participants)}`;
  text += '\n';
  text += view.messages.length
    ? renderTable(TIMELINE_COLUMNS, view.messages.map((m, i) => [i, m] as [number, AclMessage]))
    : 'no messages recorded on this node\n';
  return text;
}

/** A cut answer (api.max_answer_bytes) says so, and how to see the rest. */
function continuation(view: ConversationView): string {
  if (!view.truncated || view.next_after === undefined) return '';
  return `\nmore messages follow (the node cuts an answer at api.max_answer_bytes): caxton conversation show ${view.conversation_id} --after ${view.next_after}\n`;
}

export function registerConversationCommands(program: Command, context: CliContext): void {
  const conversation = program.command('conversation').description('inspect conversations seen by a node');
  withExamples(conversation, 'caxton conversation show <conversation-id>');
  const show = conversation
    .command('show')
    .description('show a conversation as a timeline: protocol, state, participants, then its messages oldest first')
    .argument('<id>', 'conversation id')
    .option('--after <cursor>', 'the messages after this cursor: what a cut answer says to pass to see the rest')
    .action(async (id: string, options: { after?: string }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<ConversationView>('GET', `/api/v1/conversations/${encodeURIComponent(id)}`, {
        expect: { conversation_id: 'string', state: 'string', messages: 'list', participants: 'list?', truncated: 'boolean?', next_after: 'string?' },
        query: { after: options.after },
      });
      print.result(body, () => renderTimeline(body) + continuation(body));
    });
  withExamples(show, 'caxton conversation show 6f1c2a9e-0d4b-4f57-9a51-2b7f3c1d8e00', 'caxton conversation show 6f1c2a9e-0d4b-4f57-9a51-2b7f3c1d8e00 --after 42.1048576');
}
