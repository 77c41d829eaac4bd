// Prepared-statement renaming: stable server names, and renamed Parse/Bind/Describe/Close that differ only in the name.
import { describe, expect, it } from 'vitest';
import {
  PreparedStatements,
  cstringEnd,
  noopClose,
  renameBind,
  renameTarget,
  standInParse,
  standInClose,
} from '../../../src/frontend/prepared-statements.js';
import * as w from '../fixtures/wire.js';

/** Places a message between unrelated bytes, as it sits in the proxy's read buffer; returns its span. */
function embed(message: Buffer): { buf: Buffer; start: number; end: number } {
  const before = w.query('SELECT before');
  const after = w.sync();
  return {
    buf: Buffer.concat([before, message, after]),
    start: before.length,
    end: before.length + message.length,
  };
}

/** Defines a client statement from a fixture Parse the way the session does (name found with cstringEnd). */
function defineFrom(ps: PreparedStatements, name: string, query: string, types: number[] = []) {
  const { buf, start, end } = embed(w.parse(name, query, types));
  const nameEnd = cstringEnd(buf, start + 5, end);
  return { stmt: ps.define(name, buf, start, nameEnd, end), buf };
}

describe('cstringEnd', () => {
  const buf = Buffer.concat([Buffer.from('ab'), Buffer.from([0]), Buffer.from('cd'), Buffer.from([0])]);

  it('finds the NUL that ends the string at pos', () => {
    expect(cstringEnd(buf, 0, buf.length)).toBe(2);
    expect(cstringEnd(buf, 3, buf.length)).toBe(5);
    expect(cstringEnd(buf, 2, buf.length)).toBe(2);
  });

  it('returns -1 when the NUL is at or past end, or missing', () => {
    expect(cstringEnd(buf, 0, 2)).toBe(-1);
    expect(cstringEnd(buf, 3, 5)).toBe(-1);
    expect(cstringEnd(Buffer.from('abc'), 0, 3)).toBe(-1);
  });
});

describe('PreparedStatements.define', () => {
  it('gives the same server name for the same text and parameter types, whatever the client name or client', () => {
    const a = defineFrom(new PreparedStatements(), 's1', 'SELECT * FROM t WHERE id = $1', [23]).stmt;
    const b = defineFrom(new PreparedStatements(), 'other', 'SELECT * FROM t WHERE id = $1', [23]).stmt;
    const ps = new PreparedStatements();
    const c = defineFrom(ps, 'x', 'SELECT * FROM t WHERE id = $1', [23]).stmt;
    const d = defineFrom(ps, 'x', 'SELECT * FROM t WHERE id = $1', [23]).stmt;
    expect(a.serverName).toBe(b.serverName);
    expect(a.serverName).toBe(c.serverName);
    expect(c.serverName).toBe(d.serverName);
  });

  it('gives different server names when the text or the parameter types differ', () => {
    const ps = new PreparedStatements();
    const names = new Set([
      defineFrom(ps, 'a', 'SELECT $1', [23]).stmt.serverName,
      defineFrom(ps, 'b', 'SELECT $1', [25]).stmt.serverName,
      defineFrom(ps, 'c', 'SELECT $1', []).stmt.serverName,
      defineFrom(ps, 'd', 'SELECT $1', [23, 23]).stmt.serverName,
      defineFrom(ps, 'e', 'SELECT $1 ', [23]).stmt.serverName,
      defineFrom(ps, 'f', 'select $1', [23]).stmt.serverName,
    ]);
    expect(names.size).toBe(6);
  });

  it('server names are valid, short identifiers', () => {
    const { stmt } = defineFrom(new PreparedStatements(), 'ünï', 'SELECT 1');
    expect(stmt.serverName).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.byteLength(stmt.serverName)).toBeLessThan(64);
  });

  it('the renamed Parse carries the same query and types under the server name', () => {
    const { stmt } = defineFrom(
      new PreparedStatements(),
      'my stmt ünï',
      'SELECT $1::text || $2 -- ünï',
      [25, 0],
    );
    expect(w.decodeParse(stmt.parse)).toEqual({
      name: stmt.serverName,
      query: 'SELECT $1::text || $2 -- ünï',
      paramTypes: [25, 0],
    });
  });

  it('the renamed Parse is its own copy: overwriting the read buffer afterwards leaves it intact', () => {
    const { stmt, buf } = defineFrom(new PreparedStatements(), 's', 'SELECT 42', [20]);
    const before = Buffer.from(stmt.parse);
    buf.fill(0x7a);
    expect(stmt.parse.equals(before)).toBe(true);
    expect(w.decodeParse(stmt.parse).query).toBe('SELECT 42');
  });

  it('get, size, forget and clear', () => {
    const ps = new PreparedStatements();
    const first = defineFrom(ps, 's', 'SELECT 1').stmt;
    defineFrom(ps, 't', 'SELECT 2');
    expect(ps.size).toBe(2);
    expect(ps.get('s')).toBe(first);
    const redefined = defineFrom(ps, 's', 'SELECT 3').stmt;
    ps.forget('s', first);
    expect(ps.get('s')).toBe(redefined);
    ps.forget('s', redefined);
    expect(ps.get('s')).toBeUndefined();
    ps.forget('t');
    expect(ps.size).toBe(0);
    defineFrom(ps, 'u', 'SELECT 4');
    ps.clear();
    expect(ps.size).toBe(0);
  });
});

describe('renameBind', () => {
  function renamed(b: w.BindFixture, name: string): Buffer {
    const { buf, start, end } = embed(w.bind(b));
    const portalEnd = cstringEnd(buf, start + 5, end);
    const stmtEnd = cstringEnd(buf, portalEnd + 1, end);
    return renameBind(buf, start, portalEnd, stmtEnd, end, name);
  }

  it('changes only the statement name; portal, formats, values and result formats are kept', () => {
    const original: w.BindFixture = {
      portal: 'cursor ünï',
      statement: 's1',
      paramFormats: [0, 1, 1],
      values: ['42', Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]), null, Buffer.alloc(0), 'ünï\u0000zero'],
      resultFormats: [1, 0],
    };
    const out = renamed(original, 'pp_server');
    const decoded = w.decodeBind(out);
    const expected = w.decodeBind(w.bind(original));
    expect(decoded).toEqual({ ...expected, statement: 'pp_server' });
  });

  it('keeps the unnamed portal and an empty parameter list', () => {
    const out = renamed({ portal: '', statement: 'x' }, 'pp_abc');
    expect(w.decodeBind(out)).toEqual({
      portal: '',
      statement: 'pp_abc',
      paramFormats: [],
      values: [],
      resultFormats: [],
    });
    expect(out.equals(w.bind({ portal: '', statement: 'pp_abc' }))).toBe(true);
  });

  it('is byte-identical to a Bind built with the new name', () => {
    const b: w.BindFixture = {
      portal: 'p',
      statement: 'a-much-longer-client-name',
      paramFormats: [1],
      values: [Buffer.from('xyz')],
      resultFormats: [1],
    };
    expect(renamed(b, 'pp_q').equals(w.bind({ ...b, statement: 'pp_q' }))).toBe(true);
  });

  it('handles large parameter values', () => {
    const big = Buffer.alloc(200000, 0x33);
    const out = renamed(
      { portal: '', statement: 's', paramFormats: [1], values: [big], resultFormats: [] },
      'pp_big',
    );
    const d = w.decodeBind(out);
    expect(d.statement).toBe('pp_big');
    expect(d.values[0]?.equals(big)).toBe(true);
  });
});

describe('renameTarget, standInParse, noopClose', () => {
  it('Describe and Close of a statement under the server name', () => {
    expect(w.decodeTarget(renameTarget(0x44, 'pp_abc'), 'D')).toEqual({ kind: 'S', name: 'pp_abc' });
    expect(w.decodeTarget(renameTarget(0x43, 'pp_abc'), 'C')).toEqual({ kind: 'S', name: 'pp_abc' });
    expect(renameTarget(0x44, 'pp_abc').equals(w.describe('S', 'pp_abc'))).toBe(true);
  });

  it('the stand-in closes and re-prepares an empty statement of its own, never the unnamed one', () => {
    expect(w.decodeParse(standInParse)).toEqual({ name: 'pp_standin', query: '', paramTypes: [] });
    expect(standInParse.equals(w.parse('pp_standin', ''))).toBe(true);
    expect(w.decodeTarget(standInClose, 'C')).toEqual({ kind: 'S', name: 'pp_standin' });
  });

  it('gives statements parsed after a schema change server names of their own generation', () => {
    const statements = new PreparedStatements();
    const parse = w.parse('s', 'SELECT * FROM t');
    const nameEnd = parse.indexOf(0, 5);
    const before = statements.define('s', parse, 0, nameEnd, parse.length, null, 0).serverName;
    const after = statements.define('s', parse, 0, nameEnd, parse.length, null, 3).serverName;
    expect(after).toBe(`${before}_3`);
  });

  it('noopClose closes a statement name no client can have', () => {
    expect(w.decodeTarget(noopClose, 'C')).toEqual({ kind: 'S', name: 'pp_closed' });
  });
});
