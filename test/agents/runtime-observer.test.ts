// guardedObserver: the runtime's observer with every callback guarded, and a worker's batched invocation
// counts handed to an observer that takes batches, or one by one to one that does not.
import { describe, expect, it } from 'vitest';
import { guardedObserver } from '../../src/agents/runtime-observer.ts';

function recordingLogger() {
  const errors: { callback: string; message: string }[] = [];
  const logger = {
    info() {},
    warn() {},
    error(obj: object) {
      const { err, callback } = obj as { err: Error; callback: string };
      errors.push({ callback, message: err.message });
    },
  };
  return { logger, errors };
}

describe('guardedObserver.onInvocations', () => {
  it('hands a batch to an observer that takes batches, as it is', () => {
    const seen: unknown[] = [];
    const { logger } = recordingLogger();
    const observer = guardedObserver({ onInvocations: (...args) => seen.push(args) }, logger);
    observer.onInvocations('a', 'message', 'ok', 5, [10, 20]);
    expect(seen).toEqual([['a', 'message', 'ok', 5, [10, 20]]]);
  });

  it('reports each invocation of a batch to an observer without it: the timed ones with their durations, the rest 0', () => {
    const seen: unknown[] = [];
    const { logger } = recordingLogger();
    const observer = guardedObserver({ onInvocation: (...args) => seen.push(args) }, logger);
    observer.onInvocations('a', 'timer', 'error', 4, new Float64Array([7, 9]));
    expect(seen).toEqual([
      ['a', 'timer', 7, 'error'],
      ['a', 'timer', 9, 'error'],
      ['a', 'timer', 0, 'error'],
      ['a', 'timer', 0, 'error'],
    ]);
  });

  it('a failing observer loses nothing else and is logged once per batch', () => {
    let calls = 0;
    const { logger, errors } = recordingLogger();
    const oneByOne = guardedObserver(
      {
        onInvocation() {
          calls++;
          throw new Error('metrics down');
        },
      },
      logger,
    );
    expect(() => oneByOne.onInvocations('a', 'message', 'ok', 3, [])).not.toThrow();
    expect(calls).toBe(3);
    expect(errors).toEqual([{ callback: 'onInvocation', message: 'metrics down' }]);

    const batched = guardedObserver(
      {
        onInvocations() {
          throw new Error('batch down');
        },
      },
      logger,
    );
    expect(() => batched.onInvocations('a', 'message', 'ok', 3, [])).not.toThrow();
    expect(errors.at(-1)).toEqual({ callback: 'onInvocations', message: 'batch down' });
  });
});
