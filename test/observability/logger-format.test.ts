// Logs at the terminal: readable lines when stdout is a TTY (log.format auto), JSON lines otherwise; and a
// node starts without any warning from Node or its libraries (Fastify's FSTDEP023 was one).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLogs } from '../../src/observability/logger.ts';
import { startNode } from '../helpers/node-process.ts';

describe('log format', () => {
  it('auto is readable on a terminal and JSON elsewhere; json and pretty force it', () => {
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('json', true)).toBe(false);
    expect(prettyLogs('pretty', false)).toBe(true);
  });

  it('a JSON line carries the node, the level name and the message', () => {
    let written = '';
    const destination = new Writable({ write: (chunk, _e, done) => ((written += chunk.toString()), done()) });
    createLogger({ level: 'info', node: 'n1', destination }).info({ key: 'secret', agent: 'a' }, 'hello');
    expect(JSON.parse(written)).toMatchObject({ level: 'info', node: 'n1', agent: 'a', key: '<redacted>', msg: 'hello' });
  });

  it('a real node starts without warnings, and logs pretty lines when asked', { timeout: 60_000 }, async () => {
    const node = await startNode({ env: { CAXTON_LOG_LEVEL: 'info', CAXTON_LOG_FORMAT: 'pretty' } });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const output = node.output();
      expect(output).not.toMatch(/Warning|Deprecation|FSTDEP/i);
      expect(output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: node started \{"node":/m);
    } finally {
      await node.kill('SIGKILL');
    }
  });
});
