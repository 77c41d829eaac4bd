// The errors the statement path builds take their SQLSTATE from the registry, or pass on another party's.
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../../src/errors.js';
import { StatementError } from '../../../src/backend/statement-error.js';
import { ValueError } from '../../../src/engine/values/value-error.js';
import { BackendError } from '../../../src/backend/server-connection.js';
import { errorFields } from '../../../src/backend/shard-wire.js';

describe('registry codes in statement errors', () => {
  it('StatementError.of takes a registry code, its message by default, hint and detail as given', () => {
    const e = StatementError.of('deadlockDetected', undefined, 'retry', 'cycle');
    expect(e.sqlstate).toBe(errorCodes.deadlockDetected.sqlstate);
    const fields = errorFields(e.body);
    expect([fields.get('S'), fields.get('M'), fields.get('H'), fields.get('D')]).toEqual([
      'ERROR',
      errorCodes.deadlockDetected.message,
      'retry',
      'cycle',
    ]);
    expect(StatementError.of('syntaxError', 'near x').message).toBe('near x');
    expect(StatementError.unsupported('no').sqlstate).toBe(errorCodes.featureNotSupported.sqlstate);
  });

  it("relay() passes on a server's or a plugin's SQLSTATE as it came", () => {
    const e = StatementError.relay('23514', 'check violated', 'fix the row');
    expect([e.sqlstate, e.message, errorFields(e.body).get('H')]).toEqual([
      '23514',
      'check violated',
      'fix the row',
    ]);
  });

  it('ValueError carries the SQLSTATE of its registry code', () => {
    const e = new ValueError('numericValueOutOfRange', 'integer out of range');
    expect([e.sqlstate, e.message]).toEqual([
      errorCodes.numericValueOutOfRange.sqlstate,
      'integer out of range',
    ]);
  });

  it("BackendError takes a registry code, a lost connection by default, or keeps the server's SQLSTATE", () => {
    expect(new BackendError('gone').sqlstate).toBe(errorCodes.connectionFailure.sqlstate);
    expect(new BackendError('wait', 'poolTimeout').sqlstate).toBe(errorCodes.poolTimeout.sqlstate);
    expect(new BackendError('refused', 'connectionFailure', '28P01').sqlstate).toBe('28P01');
  });
});
