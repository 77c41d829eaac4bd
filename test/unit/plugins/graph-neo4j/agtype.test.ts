// agtype rendering of Neo4j values: AGE's vertex/edge/path forms, jsonb key order, scalars, temporal and spatial values.
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { agtypeText, renderValue } from '../../../../src/plugins/builtin/graph-neo4j/agtype.js';

const { Node, Relationship, Path, PathSegment, Point, Date: CypherDate, DateTime, Duration } = neo4j.types;
const int = neo4j.int;

const alice = new Node(int(0), ['Person'], { name: 'Alice', age: int(30) });
const bob = new Node(int(1), ['Person', 'Admin'], { name: 'Bob' });
const knows = new Relationship(int(7), int(0), int(1), 'KNOWS', { since: int(2020), weight: 0.5 });

describe('agtype rendering', () => {
  it('renders a vertex with id, label and properties in AGE key order', () => {
    expect(renderValue(alice)).toBe(
      '{"id": 0, "label": "Person", "properties": {"age": 30, "name": "Alice"}}::vertex',
    );
  });

  it('joins several labels with a colon', () => {
    expect(renderValue(bob)).toBe(
      '{"id": 1, "label": "Person:Admin", "properties": {"name": "Bob"}}::vertex',
    );
  });

  it('renders an edge with end_id before start_id, as jsonb orders keys', () => {
    expect(renderValue(knows)).toBe(
      '{"id": 7, "label": "KNOWS", "end_id": 1, "start_id": 0, "properties": {"since": 2020, "weight": 0.5}}::edge',
    );
  });

  it('renders a path as alternating vertices and edges', () => {
    const path = new Path(alice, bob, [new PathSegment(alice, knows, bob)]);
    expect(renderValue(path)).toBe(
      `[${renderValue(alice)}, ${renderValue(knows)}, ${renderValue(bob)}]::path`,
    );
  });

  it('renders scalars as agtype: quoted strings, integers, floats with a decimal point, booleans', () => {
    expect(renderValue('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(renderValue(int('9223372036854775807'))).toBe('9223372036854775807');
    expect(renderValue(1)).toBe('1.0');
    expect(renderValue(-2.5)).toBe('-2.5');
    expect(renderValue(1e20)).toBe('1e+20');
    expect(renderValue(NaN)).toBe('NaN');
    expect(renderValue(-Infinity)).toBe('-Infinity');
    expect(renderValue(true)).toBe('true');
  });

  it('renders lists and maps with nulls inside, maps sorted by key length then bytes', () => {
    expect(renderValue([int(1), 'x', null, [2.5]])).toBe('[1, "x", null, [2.5]]');
    expect(renderValue({ zz: int(1), a: null, bb: { y: true, x: false } })).toBe(
      '{"a": null, "bb": {"x": false, "y": true}, "zz": 1}',
    );
  });

  it('turns a top-level Cypher null into SQL NULL', () => {
    expect(agtypeText(null)).toBeNull();
    expect(agtypeText([null])).toBe('[null]');
  });

  it('renders temporal values as ISO strings and points as maps with their srid', () => {
    expect(renderValue(new CypherDate(int(2024), int(2), int(29)))).toBe('"2024-02-29"');
    expect(
      renderValue(new DateTime(int(2024), int(1), int(2), int(3), int(4), int(5), int(6000), int(3600))),
    ).toBe('"2024-01-02T03:04:05.000006000+01:00"');
    expect(renderValue(new Duration(int(1), int(2), int(3), int(0)))).toBe('"P1M2DT3S"');
    expect(renderValue(new Point(int(7203), 1, 2.5))).toBe('{"x": 1.0, "y": 2.5, "srid": 7203}');
    expect(renderValue(new Point(int(9157), 1, 2, 3))).toBe('{"x": 1.0, "y": 2.0, "z": 3.0, "srid": 9157}');
  });

  it('renders byte arrays in bytea hex form', () => {
    expect(renderValue(new Int8Array([1, -1]))).toBe('"\\\\x01ff"');
  });
});
