// Schema generations of shared server statements: which older statements may have changed result types.
import { beforeAll, describe, expect, it } from 'vitest';
import { SharedStatements, isStalePlanError } from '../../../src/backend/shared-statements.js';
import { changesResultTypes } from '../../../src/router/session-state.js';
import { loadParser } from '../../../src/sql/parser.js';

beforeAll(() => loadParser());

describe('SharedStatements.changedSince', () => {
  it('counts a change of a table the statement reads, or of unknown tables, after its generation', () => {
    const s = new SharedStatements();
    expect(s.changedSince(0, ['t'])).toBe(false);
    s.invalidate(['other']);
    expect(s.changedSince(0, ['t'])).toBe(false);
    expect(s.changedSince(0, ['other'])).toBe(true);
    expect(s.changedSince(0, undefined)).toBe(true);
    s.invalidate(null);
    expect(s.changedSince(1, ['t'])).toBe(true);
    expect(s.changedSince(2, ['t'])).toBe(false);
  });

  it('treats statements older than the changes it remembers as changed', () => {
    const s = new SharedStatements();
    for (let i = 0; i < 150; i++) s.invalidate(['x']);
    expect(s.changedSince(0, ['t'])).toBe(true);
    expect(s.changedSince(149, ['t'])).toBe(false);
  });

  it('forgets which statements parsed once the schema changes', () => {
    const s = new SharedStatements();
    s.parsed('pp_a');
    expect(s.isKnown('pp_a')).toBe(true);
    s.invalidate(['t']);
    expect(s.isKnown('pp_a')).toBe(false);
  });
});

describe('what starts a generation', () => {
  it('DDL that can change result types does; an index, TRUNCATE or VACUUM does not', () => {
    expect(changesResultTypes('ALTER TABLE t ADD COLUMN c int')).toBe(true);
    expect(changesResultTypes('DROP TYPE mood')).toBe(true);
    expect(changesResultTypes('CREATE OR REPLACE VIEW v AS SELECT 1')).toBe(true);
    expect(changesResultTypes('CREATE INDEX ON t (a)')).toBe(false);
    expect(changesResultTypes('TRUNCATE t')).toBe(false);
    expect(changesResultTypes('VACUUM t')).toBe(false);
  });

  it('knows the errors of stale copies', () => {
    expect(isStalePlanError(Buffer.from('Mcached plan must not change result type'))).toBe(true);
    expect(isStalePlanError(Buffer.from('Mcache lookup failed for type 1234'))).toBe(true);
    expect(isStalePlanError(Buffer.from('Msyntax error'))).toBe(false);
  });
});
