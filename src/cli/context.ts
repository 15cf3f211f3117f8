// What every command is given, so that the whole CLI runs in-process under test with its own output,
// environment and server launcher.
import { type Command, InvalidArgumentError } from 'commander';
import { openSession, type GlobalFlags, type Session } from './globals.ts';
import type { CliIo } from './output.ts';

/** The node's entry point, written by the node layer (src/node/run-server.ts). */
export type RunServer = (flags: Record<string, unknown>) => Promise<void>;

export interface CliContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  loadRunServer: () => Promise<RunServer>;
  /** Ends `--follow` streams (Ctrl-C in a terminal, the test in a test). */
  interrupt?: AbortSignal;
}

export function sessionFor(command: Command, context: CliContext): Promise<Session> {
  return openSession(command.optsWithGlobals<GlobalFlags>(), context.env, context.io);
}

/** Adds the example lines every command's --help ends with. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** A commander argument parser for a positive integer flag. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return n;
}

/** Collects a repeatable flag into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
