// The `caxton` binary (bin/caxton.mjs loads this file through tsx).
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv);
