// Which transport a process uses: node:net on Node, Bun's sockets on Bun unless POLYPROXY_TRANSPORT=node.
import { describe, expect, it } from 'vitest';
import { transportKind, transportVariable } from '../../../src/net/transport.js';

describe('transportKind', () => {
  it('is node:net on Node, with or without POLYPROXY_TRANSPORT=node', () => {
    expect(transportKind({})).toBe('node');
    expect(transportKind({ [transportVariable]: 'node' })).toBe('node');
  });

  it('refuses Bun outside Bun, and any other name', () => {
    expect(() => transportKind({ [transportVariable]: 'bun' })).toThrow(/needs the Bun runtime/);
    expect(() => transportKind({ [transportVariable]: 'uv' })).toThrow(/must be node or bun/);
  });
});
