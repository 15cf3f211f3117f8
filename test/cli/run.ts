// Runs the CLI in-process (commander, client and output are the real ones) with captured output.
import { runCli } from '../../src/cli/program.ts';
import type { CliContext } from '../../src/cli/context.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function caxton(args: string[], env: NodeJS.ProcessEnv, overrides: Partial<CliContext> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'caxton', ...args], {
    io: { out: (t) => void (stdout += t), err: (t) => void (stderr += t) },
    env,
    loadRunServer: async () => {
      throw new Error('no node in tests');
    },
    ...overrides,
  });
  return { code, stdout, stderr };
}
