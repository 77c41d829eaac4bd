// Cypher values in Apache AGE's agtype text form: vertices, edges and paths annotated, maps in jsonb key order.
import neo4j from 'neo4j-driver';
import type { Node, Path, Relationship } from 'neo4j-driver';
import { agtypeFloatText } from './float-text.js';

/**
 * agtype objects keep their keys as jsonb does: shorter keys first, equal lengths by bytes. That is why AGE
 * prints `{"id", "label", "end_id", "start_id", "properties"}` in that order.
 */
export function jsonbKeyOrder(a: string, b: string): number {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length - right.length || Buffer.compare(left, right);
}

function renderMap(entries: [string, string][]): string {
  entries.sort(([a], [b]) => jsonbKeyOrder(a, b));
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}: ${value}`).join(', ')}}`;
}

function renderProperties(properties: Record<string, unknown>): string {
  return renderMap(Object.entries(properties).map(([k, v]) => [k, renderValue(v)]));
}

/**
 * Vertex ids are Neo4j's numeric identities (`id(n)`), an int64 as in AGE; Neo4j may reuse one after a delete.
 * A node may carry several labels where an AGE vertex has one: they are joined with `:` (`Person:Admin`).
 */
function renderVertex(node: Node): string {
  const fields: [string, string][] = [
    ['id', node.identity.toString()],
    ['label', JSON.stringify(node.labels.join(':'))],
    ['properties', renderProperties(node.properties)],
  ];
  return `${renderMap(fields)}::vertex`;
}

function renderEdge(edge: Relationship): string {
  const fields: [string, string][] = [
    ['id', edge.identity.toString()],
    ['label', JSON.stringify(edge.type)],
    ['end_id', edge.end.toString()],
    ['start_id', edge.start.toString()],
    ['properties', renderProperties(edge.properties)],
  ];
  return `${renderMap(fields)}::edge`;
}

/** A path alternates vertex, edge, vertex, in the order it was traversed. */
function renderPath(path: Path): string {
  const parts = [renderVertex(path.start)];
  for (const segment of path.segments)
    parts.push(renderEdge(segment.relationship), renderVertex(segment.end));
  return `[${parts.join(', ')}]::path`;
}

/** Spatial points become maps with their coordinate reference system id: `{"x": 1.0, "y": 2.0, "srid": 7203}`. */
function renderPoint(point: { srid: unknown; x: number; y: number; z?: number }): string {
  const fields: [string, string][] = [
    ['x', agtypeFloatText(point.x)],
    ['y', agtypeFloatText(point.y)],
    ['srid', String(point.srid)],
  ];
  if (point.z !== undefined) fields.push(['z', agtypeFloatText(point.z)]);
  return renderMap(fields);
}

/** Temporal values have no agtype of their own: they become strings in Neo4j's ISO 8601 form. */
function isTemporal(value: unknown): boolean {
  return (
    neo4j.isDate(value) ||
    neo4j.isDateTime(value) ||
    neo4j.isLocalDateTime(value) ||
    neo4j.isTime(value) ||
    neo4j.isLocalTime(value) ||
    neo4j.isDuration(value)
  );
}

/** Byte arrays become strings in PostgreSQL's bytea hex form, `"\\x0102"`. */
function renderBytes(bytes: ArrayBufferView): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return JSON.stringify(`\\x${hex}`);
}

/** A value inside agtype text; null renders as agtype `null` here (a top-level null is SQL NULL, see agtypeText). */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // The driver hands Cypher INTEGERs over as Integer objects, so a plain number is always a Cypher FLOAT.
  if (typeof value === 'number') return agtypeFloatText(value);
  if (typeof value === 'bigint' || neo4j.isInt(value)) return value.toString();
  if (neo4j.isNode(value)) return renderVertex(value);
  if (neo4j.isRelationship(value)) return renderEdge(value);
  if (neo4j.isPath(value)) return renderPath(value);
  if (neo4j.isPoint(value)) return renderPoint(value as Parameters<typeof renderPoint>[0]);
  if (isTemporal(value)) return JSON.stringify(String(value));
  if (Array.isArray(value)) return `[${value.map(renderValue).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return renderBytes(value);
  if (typeof value === 'object') return renderProperties(value as Record<string, unknown>);
  return JSON.stringify(String(value));
}

/** A result column's agtype text; Cypher null is SQL NULL, as in AGE. */
export function agtypeText(value: unknown): string | null {
  return value === null || value === undefined ? null : renderValue(value);
}
