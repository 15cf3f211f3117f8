// The version a node reports (/health, gossip meta): the package's, read once.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const CAXTON_VERSION: string = pkg.version;
