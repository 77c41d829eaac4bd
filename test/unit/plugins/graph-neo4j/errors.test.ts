// Neo4j status codes and driver errors mapped to SQLSTATEs, with Neo4j's message kept.
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { sqlstateFor, toPluginError } from '../../../../src/plugins/builtin/graph-neo4j/errors.js';

describe('sqlstateFor', () => {
  it.each([
    ['Neo.ClientError.Statement.SyntaxError', '42601'],
    ['Neo.ClientError.Schema.ConstraintValidationFailed', '23505'],
    ['Neo.ClientError.Database.DatabaseNotFound', '3F000'],
    ['Neo.ClientError.Statement.ParameterMissing', '42P02'],
    ['Neo.ClientError.Statement.TypeError', '22023'],
    ['Neo.ClientError.Statement.ArithmeticError', '22012'],
    ['Neo.TransientError.Transaction.LockClientStopped', '40001'],
    ['Neo.TransientError.Transaction.DeadlockDetected', '40P01'],
    ['Neo.TransientError.General.DatabaseUnavailable', '08006'],
    ['ServiceUnavailable', '08006'],
    ['Neo.ClientError.Statement.SomethingNew', '42000'],
    ['Neo.DatabaseError.General.UnknownError', 'XX000'],
    [undefined, 'XX000'],
  ])('%s -> %s', (code, sqlstate) => {
    expect(sqlstateFor(code)).toBe(sqlstate);
  });
});

describe('toPluginError', () => {
  it("keeps Neo4j's message and adds a hint where there is something to do", () => {
    const err = toPluginError(
      new neo4j.Neo4jError('Could not connect', 'ServiceUnavailable', 'N/A', 'N/A'),
      'neo4j',
    );
    expect([err.sqlstate, err.message]).toEqual(['08006', 'Neo4j is unavailable: Could not connect']);
    expect(err.hint).toContain('plugins.graph.url');
    const missing = toPluginError(
      new neo4j.Neo4jError('Graph not found: x', 'Neo.ClientError.Database.DatabaseNotFound', 'N/A', 'N/A'),
      'x',
    );
    expect(missing.hint).toContain('"x"');
  });

  it('passes PluginErrors through unchanged and treats anything else as internal', () => {
    const own = new PluginError('0A000', 'no');
    expect(toPluginError(own, 'neo4j')).toBe(own);
    expect(toPluginError(new Error('boom'), 'neo4j').sqlstate).toBe('XX000');
  });
});
