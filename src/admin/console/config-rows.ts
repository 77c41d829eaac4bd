// The effective config as key/value rows for SHOW CONFIG: flattened key paths, secrets redacted, defaults beside.
import { backendSchema, poolSchema, routingSchema } from '../../config/database-schema.js';
import { configSchema, type Config } from '../../config/schema.js';

export interface ConfigRow {
  key: string;
  value: string;
  default: string | null;
  changeable: 'yes' | 'no';
}

const secretKey = /pass(word)?|secret|token|verifier/i;
/** Applied at start only: RELOAD cannot change them. */
const restartOnly = ['listen', 'admin', 'log', 'plugins'];

/** A password inside a URL (`redis://:pw@host`, `mongodb://user:pw@host`) is a secret too. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/(\/\/[^/:@\s]*:)[^@\s]+@/g, '$1[redacted]@');
}

function flatten(value: unknown, path: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.set(path, value);
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else {
    out.set(path, value);
  }
}

/** Defaults of the keys that have one: top-level settings and each database's pool, routing and backend. */
function defaults(config: Config): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const shape = configSchema.shape;
  flatten(
    {
      listen: shape.listen.parse(undefined),
      limits: shape.limits.parse(undefined),
      log: shape.log.parse(undefined),
      shutdown_timeout: shape.shutdown_timeout.parse(undefined),
    },
    '',
    out,
  );
  const backend = backendSchema.parse({ user: '-', database: '-' });
  for (const name of Object.keys(config.databases)) {
    const section = { pool: poolSchema.parse({}), routing: routingSchema.parse({}), backend };
    flatten(section, `databases.${name}`, out);
  }
  out.delete(`databases`);
  return out;
}

export function configRows(config: Config): ConfigRow[] {
  const values = new Map<string, unknown>();
  flatten(config, '', values);
  const defs = defaults(config);
  return [...values].map(([key, value]) => {
    const last = key.split('.').at(-1) ?? key;
    const secret = secretKey.test(last) && value !== '' && value !== undefined;
    return {
      key,
      value: secret ? '[redacted]' : show(value),
      default: defs.has(key) && !/\.backend\.(user|database)$/.test(key) ? show(defs.get(key)) : null,
      changeable: restartOnly.some((k) => key === k || key.startsWith(`${k}.`)) ? 'no' : 'yes',
    };
  });
}
