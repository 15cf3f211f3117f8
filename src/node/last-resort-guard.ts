// The process's last guard, installed once a node is serving (`caxton server start`): an exception or a
// rejection no handler caught is logged (rate limited) and counted (caxton_uncaught_errors_total{kind}), and
// the node goes on. Every handler of what peers, clients and agents send has its own guard; this one is for the
// path nobody thought of, where Node's default, exiting, would let one input kill the node and everything it
// runs. Not installed before the node is up: a failure to start must still end the process.
import { Counter, type Registry } from 'prom-client';
import { LogBudget } from '../cluster/log-budget.ts';
import type { Logger } from '../observability/logger.ts';

/** Lines logged: 10 at once, then one a second, the ones held back counted in the next. */
const LOG_BURST = 10;
const LOG_PER_SECOND = 1;

export function installLastResortGuard(logger: Logger, registry: Registry): () => void {
  const counter = new Counter({
    name: 'caxton_uncaught_errors_total',
    help: 'exceptions and promise rejections no handler caught; logged (rate limited) and dropped, the node goes on',
    labelNames: ['kind'],
    registers: [registry],
  });
  counter.inc({ kind: 'exception' }, 0);
  counter.inc({ kind: 'rejection' }, 0);
  const budget = new LogBudget(LOG_BURST, LOG_PER_SECOND, () => Date.now());
  const report = (kind: 'exception' | 'rejection', error: unknown) => {
    counter.inc({ kind });
    const suppressed = budget.take();
    if (suppressed === undefined) return;
    logger.error({ err: error, kind, ...(suppressed > 0 ? { suppressed } : {}) }, `uncaught ${kind} dropped (a bug: please report it with this line)`);
  };
  const onException = (error: Error) => report('exception', error);
  const onRejection = (reason: unknown) => report('rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
