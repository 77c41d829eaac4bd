// The ParameterStatus messages a client sees after login: the server's, with the client's own startup settings echoed as PostgreSQL does.
import { reportedSettings } from '../backend/server-settings.js';
import { canonicalEncoding } from './client-encoding.js';

/**
 * The server's reported parameters, each replaced by the client's startup value where it gave one, plus the
 * reported settings the server did not list: a client sees the values it asked for, under the server's spelling.
 */
export function greetingSettings(
  serverParams: ReadonlyMap<string, string>,
  startupValues: ReadonlyMap<string, string>,
): Map<string, string> {
  const shown = new Map(serverParams);
  for (const [k, v] of startupValues) {
    const key = k.toLowerCase();
    const known = [...shown.keys()].find((s) => s.toLowerCase() === key);
    if (known || reportedSettings.has(key))
      shown.set(known ?? k, key === 'client_encoding' ? canonicalEncoding(v) : v);
  }
  return shown;
}
