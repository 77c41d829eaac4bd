// Compares two configs database by database, so a SIGHUP reload touches only what changed.
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './schema.js';

export interface DatabaseDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export function diffDatabases(oldConfig: Config, newConfig: Config): DatabaseDiff {
  const diff: DatabaseDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [name, database] of Object.entries(newConfig.databases)) {
    if (!Object.hasOwn(oldConfig.databases, name)) diff.added.push(name);
    else if (isDeepStrictEqual(oldConfig.databases[name], database)) diff.unchanged.push(name);
    else diff.changed.push(name);
  }
  diff.removed = Object.keys(oldConfig.databases).filter((name) => !Object.hasOwn(newConfig.databases, name));
  return diff;
}
