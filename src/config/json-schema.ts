// JSON Schema of the config file, generated from the zod schema, for editors and external validators.
import { z } from 'zod';
import { configSchema } from './schema.js';

/** Describes what a user may write (input shape: defaults optional, durations as text or numbers). */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7' });
  return {
    $schema,
    $id: 'urn:polyproxy:config',
    title: 'polyproxy configuration',
    description: 'polyproxy config file; ${VAR} and ${VAR:-default} are substituted from the environment',
    ...rest,
  };
}
