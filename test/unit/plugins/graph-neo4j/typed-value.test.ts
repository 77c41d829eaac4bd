// Typed result columns: Cypher values converted to PostgreSQL text forms, and the errors for values that do not fit.
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { typedText } from '../../../../src/plugins/builtin/graph-neo4j/typed-value.js';

const { Node, Date: CypherDate, DateTime, LocalDateTime } = neo4j.types;
const int = neo4j.int;

function sqlstateOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (err) {
    return err instanceof PluginError ? err.sqlstate : 'not a PluginError';
  }
  return undefined;
}

describe('typedText', () => {
  it('passes SQL NULL through for every type', () => {
    expect(typedText(null, 'int4')).toBeNull();
    expect(typedText(null, 'json')).toBeNull();
  });

  it('text: strings as they are, other values in agtype form', () => {
    expect(typedText('Alice', 'text')).toBe('Alice');
    expect(typedText(int(3), 'text')).toBe('3');
    expect(typedText([1.5, 'a'], 'text')).toBe('[1.5, "a"]');
  });

  it('integers: range-checked, floats rounded half to even as PostgreSQL casts do', () => {
    expect(typedText(int(42), 'int4')).toBe('42');
    expect(typedText(int('9223372036854775807'), 'int8')).toBe('9223372036854775807');
    expect(typedText(2.5, 'int4')).toBe('2');
    expect(typedText(3.5, 'int2')).toBe('4');
    expect(typedText('17', 'int8')).toBe('17');
    expect(sqlstateOf(() => typedText(int(40000), 'int2'))).toBe('22003');
    expect(sqlstateOf(() => typedText(int('3000000000'), 'int4'))).toBe('22003');
    expect(sqlstateOf(() => typedText('abc', 'int4'))).toBe('22P02');
    expect(sqlstateOf(() => typedText(true, 'int4'))).toBe('22P02');
  });

  it('floats and numeric', () => {
    expect(typedText(0.1, 'float8')).toBe('0.1');
    expect(typedText(int(5), 'float8')).toBe('5');
    expect(typedText(0.1, 'float4')).toBe('0.10000000149011612');
    expect(typedText(1e21, 'numeric')).toBe('1000000000000000000000');
    expect(typedText(1.5e-7, 'numeric')).toBe('0.00000015');
    expect(typedText(int('12345678901234567890'.slice(0, 18)), 'numeric')).toBe('123456789012345678');
    expect(typedText('12.50', 'numeric')).toBe('12.50');
    expect(sqlstateOf(() => typedText('x', 'numeric'))).toBe('22P02');
  });

  it('booleans', () => {
    expect(typedText(true, 'bool')).toBe('t');
    expect(typedText('off', 'bool')).toBe('f');
    expect(sqlstateOf(() => typedText(int(1), 'bool'))).toBe('22P02');
  });

  it('json: graph values as their maps, in jsonb layout', () => {
    const node = new Node(int(3), ['Person'], { name: 'A', tags: ['x'] });
    expect(typedText(node, 'json')).toBe(
      '{"id": 3, "label": "Person", "properties": {"name": "A", "tags": ["x"]}}',
    );
    expect(typedText({ b: 1.5, a: int(2) }, 'json')).toBe('{"a": 2, "b": 1.5}');
    expect(typedText('s', 'json')).toBe('"s"');
    expect(sqlstateOf(() => typedText(NaN, 'json'))).toBe('22P02');
  });

  it('dates and timestamps in PostgreSQL text form', () => {
    const date = new CypherDate(int(2024), int(3), int(1));
    const local = new LocalDateTime(int(2024), int(3), int(1), int(13), int(5), int(9), int(123456789));
    const zoned = new DateTime(int(2024), int(3), int(1), int(13), int(5), int(9), int(0), int(-16200));
    expect(typedText(date, 'date')).toBe('2024-03-01');
    expect(typedText(local, 'timestamp')).toBe('2024-03-01 13:05:09.123456');
    expect(typedText(date, 'timestamp')).toBe('2024-03-01 00:00:00');
    expect(typedText(zoned, 'timestamptz')).toBe('2024-03-01 13:05:09-04:30');
    expect(typedText('2024-03-01T10:00:00Z', 'timestamptz')).toBe('2024-03-01 10:00:00Z');
    expect(sqlstateOf(() => typedText(local, 'timestamptz'))).toBe('22P02');
    expect(sqlstateOf(() => typedText(int(1), 'date'))).toBe('22P02');
    expect(typedText('2024-03-01', 'date')).toBe('2024-03-01');
    expect(typedText('2024-03-01T10:00:00.5', 'timestamp')).toBe('2024-03-01 10:00:00.5');
    expect(sqlstateOf(() => typedText('yesterday', 'date'))).toBe('22P02');
    expect(sqlstateOf(() => typedText('2024-03-01T10:00:00', 'timestamptz'))).toBe('22P02');
  });
});
