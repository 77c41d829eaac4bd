// Built-in functions whose call changes state, so a statement calling them must run on the primary.

/**
 * Exact names. currval, lastval and setseed read state that only the calling session has; txid_current
 * and pg_current_xact_id assign a transaction id, which a standby refuses; server-wide actions
 * (terminate, reload, stats reset) are meant for the primary, not whichever replica answers.
 */
const exactNames = new Set([
  'nextval',
  'setval',
  'currval',
  'lastval',
  'setseed',
  'set_config',
  'pg_notify',
  'txid_current',
  'pg_current_xact_id',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_log_standby_snapshot',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_drop_replication_slot',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes',
  'pg_logical_emit_message',
  'pg_stat_statements_reset',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'dblink_exec',
  'loread',
  'lowrite',
]);

/** Families: every advisory lock function, every large-object function (descriptors live in one session). */
const prefixes = ['pg_advisory_', 'pg_try_advisory_', 'lo_', 'pg_stat_reset', 'pg_replication_origin_'];

/** pg_create_physical_replication_slot, pg_copy_logical_replication_slot and the like. */
const replicationSlotMaker = /^pg_(create|copy)_\w+_replication_slot$/;

/** True for a built-in side-effect function or one the configuration names; `name` is lower-case and unqualified. */
export function isSideEffectFunction(name: string, configured: ReadonlySet<string>): boolean {
  return (
    exactNames.has(name) ||
    configured.has(name) ||
    prefixes.some((p) => name.startsWith(p)) ||
    replicationSlotMaker.test(name)
  );
}

/** Configured names as the classifier compares them: lower-case, schema dropped (`app.audit` matches `audit`). */
export function normalizeFunctionNames(names: ReadonlySet<string>): Set<string> {
  return new Set([...names].map((n) => (n.split('.').at(-1) ?? n).toLowerCase()));
}
