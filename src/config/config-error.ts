// The error every config failure becomes: one readable line per problem, prefixed with the file name.

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: string[],
  ) {
    super(errors.map((line) => `${source}: ${line}`).join('\n'));
    this.name = 'ConfigError';
  }
}
