// `caxton server start`: load the configuration, start a node in the foreground, leave gracefully on
// SIGINT/SIGTERM (its agents handed to other nodes, then `left` everywhere; a second signal forces the exit),
// and end the process when the node stops (also after `caxton cluster leave`). A bad configuration, or data-dir files with modes the node
// must not trust, is one clear line and exit code 2.
import { loadConfig, type Config } from '../config/config.ts';
import { ConfigError } from '../config/config-error.ts';
import { FilePermissionError } from '../state/file-permissions.ts';
import { installLastResortGuard } from './last-resort-guard.ts';
import { CaxtonNode } from './node.ts';

export async function runServer(flags: Record<string, unknown>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let node: CaxtonNode;
  try {
    node = await CaxtonNode.start({ config });
  } catch (error) {
    // Files the node must not trust (a world-writable data dir, an admin.key others can read): one line, as ssh.
    if (error instanceof FilePermissionError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  installLastResortGuard(node.logger, node.metrics.registry);
  void node.stopped.then(() => process.exit(0));
  let signalled = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signalled) {
      node.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    node.logger.info({ signal }, 'leaving: handing agents over, then stopping');
    node.leave().then(
      () => process.exit(0),
      (error: unknown) => {
        node.logger.error({ err: error }, 'graceful stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
