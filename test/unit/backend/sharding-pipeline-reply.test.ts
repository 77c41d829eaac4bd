// Pipelined passthrough rounds on one shard connection: each reported in order, the connection back after the last.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClientReply } from '../../../src/backend/client-reply.js';
import type { Pool } from '../../../src/backend/pool.js';
import { ResponseRelay } from '../../../src/backend/response-relay.js';
import type { ServerConnection } from '../../../src/backend/server-connection.js';
import { ShardChannel } from '../../../src/backend/shard-channel.js';
import * as be from '../../../src/protocol/backend-messages.js';

/** A shard connection whose server replies the test writes through its relay, as the socket would. */
function rig() {
  const written: Buffer[] = [];
  const relay = new ResponseRelay();
  const conn = {
    relay,
    closed: false,
    socket: new PassThrough(),
    write: (b: Buffer) => written.push(b),
  } as unknown as ServerConnection;
  const back: string[] = [];
  const pool = {
    release: () => back.push('released'),
    destroy: () => back.push('destroyed'),
  } as unknown as Pool;
  const channel = new ShardChannel(0, conn, pool);
  const client = new PassThrough();
  const received: Buffer[] = [];
  client.on('data', (b: Buffer) => received.push(b));
  const reply = new ClientReply(() => back.push('stopped'));
  const server = (b: Buffer) => relay.process(b);
  return { channel, client, reply, server, written, back, received };
}

const rowsOf = (n: string) =>
  Buffer.concat([be.dataRow([n]), be.commandComplete('SELECT 1'), be.readyForQuery(0x49)]);

describe('pipelined passthrough rounds', () => {
  it('report each round as its ReadyForQuery passes, and give the connection back after the last', async () => {
    const { channel, client, reply, server, written, back, received } = rig();
    const reports: string[] = [];
    reply.start(channel, client, (err) => reports.push(`first ${err?.message ?? 'ok'}`));
    channel.relay(Buffer.from('Q1'), reply);
    reply.append((err) => reports.push(`second ${err?.message ?? 'ok'}`));
    channel.relay(Buffer.from('Q2'), reply);
    expect(written.map(String)).toEqual(['Q1', 'Q2']);
    // Both replies in one chunk, the second split across two.
    const both = Buffer.concat([rowsOf('a'), rowsOf('b')]);
    server(both.subarray(0, both.length - 3));
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual(['first ok']);
    expect(back).toEqual([]);
    server(both.subarray(both.length - 3));
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual(['first ok', 'second ok']);
    expect(back).toEqual(['stopped', 'released']);
    expect(Buffer.concat(received)).toEqual(both);
  });

  it('report every round in flight as failed when the connection is lost', () => {
    const { channel, client, reply, back } = rig();
    const reports: string[] = [];
    reply.start(channel, client, (err) => reports.push(`first ${err ? 'lost' : 'ok'}`));
    channel.relay(Buffer.from('Q1'), reply);
    reply.append((err) => reports.push(`second ${err ? 'lost' : 'ok'}`));
    channel.relay(Buffer.from('Q2'), reply);
    channel.onServerLost();
    expect(reports).toEqual(['first lost', 'second lost']);
    expect(back).toEqual(['stopped', 'destroyed']);
  });
});
