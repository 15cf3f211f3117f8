// `caxton message send`: send a message as a client; with --wait, print the answers.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AclMessage } from '../../messaging/message.ts';
import { PERFORMATIVES } from '../../messaging/message.ts';
import type { SendResult } from '../../node/services.ts';
import { ApiError, CliError } from '../cli-error.ts';
import type { ApiClient } from '../client.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { cell, type Printer } from '../output.ts';
import { eventObject } from '../sse-reader.ts';

interface SendOptions {
  to: string;
  performative: string;
  content?: unknown;
  protocol?: string;
  conversationId?: string;
  replyBy?: string;
  wait?: number;
}

function jsonArgument(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message}); quote it, e.g. --content '{"q": 1}'`);
  }
}

function waitArgument(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be milliseconds (an integer ≥ 0)');
  return n;
}

function isoArgument(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an RFC 3339 timestamp, e.g. 2030-01-01T12:00:00Z');
  }
  return value;
}

/** One answer as a person reads it: who said what. */
export function describeReply(reply: AclMessage): string {
  return `${cell(reply.performative)} from ${cell(reply.sender)}: ${reply.content === undefined ? '-' : cell(reply.content)}\n`;
}

/**
 * `--wait`: streams the replies (POST …?wait_ms=N&stream=true) and prints each the moment it arrives; in
 * json mode one JSON object per line: {"event":"sent",…}, {"event":"reply","message":{…}}…, {"event":"end",…}.
 */
async function sendAndFollow(client: ApiClient, print: Printer, body: Record<string, unknown>, waitMs: number): Promise<void> {
  const events = client.eventStream('POST', '/api/v1/messages', { body, query: { wait_ms: waitMs, stream: true } });
  let replies = 0;
  for await (const { event, data } of events) {
    const payload = eventObject({ event, data });
    if (event === 'sent') {
      print.item({ event, ...payload }, () => `sent ${payload.message_id} (conversation ${payload.conversation_id})\n`);
    } else if (event === 'reply') {
      replies++;
      print.item({ event, message: payload }, () => describeReply(payload as unknown as AclMessage));
    } else if (event === 'end') {
      print.item({ event, ...payload }, () => (replies === 0 ? `no replies within ${waitMs} ms\n` : ''));
      return;
    } else if (event === 'error') {
      const error = (payload as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(200, error?.code ?? 'INTERNAL', error?.message ?? 'the stream ended with an error');
    }
  }
  throw new CliError('the server ended the reply stream early');
}

export function registerMessageCommands(program: Command, context: CliContext): void {
  const message = program.command('message').description('send FIPA-ACL messages as a client');
  withExamples(message, 'caxton message send --to echo --performative request --content \'"hi"\' --wait 1000');
  const send = message
    .command('send')
    .description('send a message to one or more agents; with --wait, wait for and print their answers')
    .requiredOption('--to <name[,name...]>', 'receiver agent name(s), or capability:<cap>')
    .addOption(
      new Option('--performative <p>', 'the FIPA performative').choices([...PERFORMATIVES]).makeOptionMandatory(),
    )
    .option('--content <json>', 'the content, as JSON', jsonArgument)
    .option('--protocol <p>', 'interaction protocol, e.g. fipa-request')
    .option('--conversation-id <id>', 'continue this conversation')
    .option('--reply-by <iso>', 'deadline for replies (RFC 3339)', isoArgument)
    .option('--wait <ms>', 'wait up to this long for every receiver to answer, printing each answer as it arrives', waitArgument)
    .action(async (options: SendOptions, command: Command) => {
      const receivers = options.to.split(',').map((r) => r.trim()).filter(Boolean);
      const body: Record<string, unknown> = {
        performative: options.performative,
        receiver: receivers.length === 1 ? receivers[0] : receivers,
        ...(options.content !== undefined ? { content: options.content } : {}),
        ...(options.protocol ? { protocol: options.protocol } : {}),
        ...(options.conversationId ? { conversation_id: options.conversationId } : {}),
        ...(options.replyBy ? { reply_by: options.replyBy } : {}),
      };
      const { client, print } = await sessionFor(command, context);
      if (options.wait !== undefined) {
        await sendAndFollow(client, print, body, options.wait);
        return;
      }
      const { body: result } = await client.request<SendResult>('POST', '/api/v1/messages', { body, expect: { message_id: 'string', conversation_id: 'string' } });
      print.result(result, () => `sent ${result.message_id} (conversation ${result.conversation_id})\n`);
    });
  withExamples(
    send,
    `caxton message send --to echo --performative request --content '{"text": "hi"}' --wait 2000`,
    'caxton message send --to capability:search --performative cfp --protocol fipa-contract-net --reply-by 2030-01-01T00:00:00Z',
  );
}
