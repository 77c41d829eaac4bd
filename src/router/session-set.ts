// SET and RESET: session settings to replay, transaction modes, and the proxy's own route override.
import type { RouteOverride, SessionSet } from './statement-info.js';
import { read, write, type StatementVerdict } from './statement-verdict.js';
import { transactionModes } from './transaction-control.js';
import { replaySql } from './replay-sql.js';

interface VariableSet {
  kind?: string;
  name?: string;
  args?: { A_Const?: { sval?: { sval?: string }; ival?: { ival?: number } }; DefElem?: unknown }[];
  is_local?: boolean;
}

const routeSetting = 'polyproxy.route';
const routeValues = new Set<string>(['primary', 'replica', 'auto']);
const transactionSettings = new Set([
  'transaction_read_only',
  'transaction_isolation',
  'transaction_deferrable',
]);

/**
 * Every SET is a read: it changes only the session, which the proxy replays on each server it hands
 * the client. Results are literal-sensitive by nature, so they are never cached by shape.
 */
export function classifyVariableSet(body: VariableSet, sql: string, index: number): StatementVerdict {
  const verdict = variableSet(body, sql, index);
  return { ...verdict, literalSensitive: true };
}

function variableSet(body: VariableSet, sql: string, index: number): StatementVerdict {
  const name = body.name?.toLowerCase() ?? '';
  switch (body.kind) {
    case 'VAR_RESET_ALL':
      return { ...read('reset'), resetAll: true, routeOverride: 'auto' };
    case 'VAR_SET_MULTI':
      return setMulti(name, body.args);
  }
  // SET LOCAL ends with the transaction, which keeps its server anyway: nothing to replay.
  if (body.is_local) return read('set-local');
  if (name === routeSetting) return routeOverride(body);
  if (transactionSettings.has(name)) return transactionSetting(name, body);
  switch (body.kind) {
    case 'VAR_RESET':
      return { ...read('reset'), sets: [{ name, sql: null }] };
    case 'VAR_SET_DEFAULT':
      return { ...read('set'), sets: [{ name, sql: null }] };
    case 'VAR_SET_VALUE':
      return { ...read('set'), sets: [{ name, sql: replaySql({ VariableSetStmt: body }, sql, index) }] };
    default:
      // SET ... FROM CURRENT keeps the value the setting already has.
      return read('set');
  }
}

function routeOverride(body: VariableSet): StatementVerdict {
  if (body.kind === 'VAR_RESET' || body.kind === 'VAR_SET_DEFAULT')
    return { ...read('route-override'), routeOverride: 'auto' };
  const value = body.args?.length === 1 ? body.args[0].A_Const?.sval?.sval?.toLowerCase() : undefined;
  if (value === undefined || !routeValues.has(value)) return read('route-override-invalid');
  return { ...read('route-override'), routeOverride: value as RouteOverride };
}

/** `SET transaction_read_only = on` and the like act on the current transaction, as SET TRANSACTION does. */
function transactionSetting(name: string, body: VariableSet): StatementVerdict {
  const arg = body.args?.[0]?.A_Const;
  const value = arg?.sval?.sval ?? String(arg?.ival?.ival ?? 0);
  if (name === 'transaction_isolation' && value.toLowerCase() === 'serializable') {
    return { ...write('serializable-transaction'), transaction: { kind: 'other', readOnly: false } };
  }
  const readOnly = name === 'transaction_read_only' && /^(on|t|tr|tru|true|y|ye|yes|1)$/i.test(value);
  const readWrite = name === 'transaction_read_only' && !readOnly;
  return {
    ...read('transaction-set'),
    transaction: { kind: 'other', readOnly, ...(readWrite && { readWrite }) },
  };
}

type DefElems = Parameters<typeof transactionModes>[0];

function setMulti(name: string, args: VariableSet['args']): StatementVerdict {
  const options = args as DefElems;
  switch (name) {
    case 'transaction': {
      const modes = transactionModes(options);
      const verdict = modes.serializable ? write('serializable-transaction') : read('transaction-set');
      const readWrite = modes.readWrite && { readWrite: true };
      return { ...verdict, transaction: { kind: 'other', readOnly: modes.readOnly, ...readWrite } };
    }
    case 'session characteristics':
      return { ...read('set'), sets: sessionCharacteristics(options) };
    default:
      // SET TRANSACTION SNAPSHOT imports a snapshot exported elsewhere, in practice on the primary.
      return { ...write('transaction-snapshot'), transaction: { kind: 'other', readOnly: false } };
  }
}

/** SET SESSION CHARACTERISTICS AS TRANSACTION ... sets the default_transaction_* settings, one entry each. */
function sessionCharacteristics(options: DefElems): SessionSet[] {
  const sets: SessionSet[] = [];
  for (const { DefElem: opt } of options ?? []) {
    const arg = opt?.arg?.A_Const;
    if (!opt?.defname) continue;
    const setting = `default_${opt.defname}`;
    // The values come from grammar keywords (READ ONLY, ISOLATION LEVEL ...), so they need no escaping.
    const value =
      opt.defname === 'transaction_isolation'
        ? `'${arg?.sval?.sval ?? ''}'`
        : arg?.ival?.ival === 1
          ? 'on'
          : 'off';
    sets.push({ name: setting, sql: `SET ${setting} TO ${value}` });
  }
  return sets;
}
