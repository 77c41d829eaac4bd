// Reads a config: environment substitution, YAML parsing, then validation against the schema.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import { substituteEnv, type Env } from './env.js';
import { configErrorMap, formatIssues } from './issues.js';
import { configSchema, type Config } from './schema.js';

export { ConfigError } from './config-error.js';

function yamlData(text: string, source: string): unknown {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((error) => {
        const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
        const at = error.linePos?.[0];
        return at ? `line ${at.line}, column ${at.col}: ${message}` : message;
      }),
    );
  }
  try {
    return doc.toJS() ?? {};
  } catch (error) {
    throw new ConfigError(source, [(error as Error).message]);
  }
}

/** `source` names the text in error messages (usually the file path). */
export function parseConfig(text: string, env: Env = process.env, source = '<config>'): Config {
  const data = yamlData(substituteEnv(text, env, source), source);
  const result = configSchema.safeParse(data, { reportInput: true, error: configErrorMap });
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}

export function loadConfigFile(path: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseConfig(text, env, path);
}
