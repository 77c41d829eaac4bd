// MongoDB's own collections (system.users, system.views, system.profile, ...): never read or written through SQL.
import { errorCodes } from '../../../errors.js';
import { PluginError } from '../../api.js';

/** MongoDB reserves the `system.` prefix for server metadata: credentials, view definitions, the profiler's log. */
export function isSystemCollection(name: string): boolean {
  return name.startsWith('system.');
}

/**
 * 42501, as PostgreSQL refuses a catalog a role may not touch: no statement on these can succeed, so a
 * client must not read it as an unsupported form (0A000) to rewrite. Checked before any server call.
 */
export function refuseSystemCollection(collection: string, table: string): void {
  if (!isSystemCollection(collection)) return;
  throw new PluginError(
    errorCodes.insufficientPrivilege.sqlstate,
    `permission denied for table ${table}`,
    "system.* collections hold MongoDB's own metadata (users, views, the profiler); the documents plugin does not expose them",
  );
}
