// Log messages quote what peers and clients chose (a gossip member's name, up to 512 characters of anything):
// on a terminal (log.format pretty, or auto on a TTY) such a message must stay one line and must not drive the
// terminal. pino-pretty drops most control characters but kept "\n" and "\r": a name could print a forged line.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, escapeControls, prettyDestination } from '../../src/observability/logger.ts';

function prettyLines(log: (logger: ReturnType<typeof createLogger>) => void): string[] {
  let written = '';
  const sink = new Writable({ write: (chunk, _e, done) => ((written += chunk.toString()), done()) });
  const logger = createLogger({ level: 'info', node: 'n1', destination: prettyDestination(false, sink) });
  log(logger);
  return written.split('\n').filter((line) => line !== '');
}

describe('pretty log lines with hostile text', () => {
  it('a member name with a line break, a carriage return and escapes prints one line, escaped', () => {
    const name = 'evil\n[12:00:00.000] INFO: admin key rotated\r\u001b[2J\u009b31m';
    const lines = prettyLines((logger) => logger.warn(`membership: suspect ${name} has failed`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: membership: suspect evil\\u000a\[12:00:00\.000\] INFO: admin key rotated\\u000d\\u001b\[2J\\u009b31m has failed \{"node":"n1"\}$/);
  });

  it('fields stay JSON, and plain messages are unchanged', () => {
    const lines = prettyLines((logger) => logger.info({ peer: 'x\ny' }, 'routing: link refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('INFO: routing: link refused {"node":"n1","peer":"x\\ny"}');
    expect(escapeControls('plain text, ünïcode ok')).toBe('plain text, ünïcode ok');
  });
});
