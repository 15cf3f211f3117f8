// Every setting an operator can write is named in the docs: as `section.key`, as `key` in a section's table,
// or by its `caxton server start` flag. A key added without a word in docs/ fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { SERVER_START_FLAGS } from '../../src/config/flags.ts';

const root = new URL('../../', import.meta.url);
const docs = [
  readFileSync(new URL('README.md', root), 'utf8'),
  ...readdirSync(new URL('docs/', root))
    .filter((file) => file.endsWith('.md'))
    .map((file) => readFileSync(new URL(`docs/${file}`, root), 'utf8')),
].join('\n');

const flagOf = new Map(SERVER_START_FLAGS.filter((flag) => flag.key !== null).map((flag) => [flag.key, flag.flags.split(' ')[0]]));

describe('configuration keys in the docs', () => {
  it('names every key of src/config/defaults.ts', () => {
    const undocumented: string[] = [];
    for (const [section, keys] of Object.entries(DEFAULTS)) {
      for (const key of Object.keys(keys as object)) {
        const full = `${section}.${key}`;
        const flag = flagOf.get(full);
        if (docs.includes(full) || docs.includes(`\`${key}\``) || (flag !== undefined && docs.includes(flag))) continue;
        undocumented.push(full);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
