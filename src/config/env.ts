// Environment substitution in the raw config text, before YAML parsing.
//
//   ${VAR}           the value of VAR (empty if VAR is set but empty); an error if VAR is unset
//   ${VAR:-default}  the value of VAR, or `default` when VAR is unset or empty
//   $${              a literal `${` (any other `$` is already literal, so SCRAM verifiers need no escaping)
//
// Lines that are YAML comments (first non-blank character `#`) are left alone. The value is pasted
// into the text as is, so quote it in YAML when it may contain `:`, `#` or leading spaces.
import { ConfigError } from './config-error.js';

const reference = /\$\$\{|\$\{([^}\n]*)(\})?/g;
const expression = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export type Env = Record<string, string | undefined>;

/** Throws a ConfigError listing every unset variable and bad reference, each with its line. */
export function substituteEnv(text: string, env: Env, source = '<config>'): string {
  const errors: string[] = [];
  const lines = text.split('\n').map((line, index) => {
    if (line.trimStart().startsWith('#')) return line;
    return line.replace(reference, (match: string, inner: string | undefined, close: string | undefined) => {
      if (match === '$${') return '${';
      const where = `line ${index + 1}`;
      const parsed = close ? expression.exec(inner ?? '') : null;
      if (!parsed) {
        errors.push(`${where}: expected \${VAR} or \${VAR:-default}, got ${JSON.stringify(match)}`);
        return match;
      }
      const [, name, fallback] = parsed;
      const value = env[name];
      if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
      if (value === undefined) {
        errors.push(
          `${where}: environment variable ${name} is not set (write \${${name}:-default} for a default)`,
        );
        return match;
      }
      return value;
    });
  });
  if (errors.length > 0) throw new ConfigError(source, errors);
  return lines.join('\n');
}
