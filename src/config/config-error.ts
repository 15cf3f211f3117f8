// A configuration that cannot start a node. The message names the key (and where its value came from), so
// the operator can fix it without reading code: `agents.fuel: expected a positive integer (env CAXTON_AGENTS_FUEL)`.
export class ConfigError extends Error {
  constructor(
    message: string,
    /** `section.key`, when one key is at fault. */
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
