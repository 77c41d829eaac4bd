// Pieces the sharded and unsharded sessions share: which stored results may answer a round, and the greeting's settings.
import { describe, expect, it } from 'vitest';
import { answersRound, type RoundMessage } from '../../../src/frontend/cache-round.js';
import { greetingSettings } from '../../../src/frontend/greeting.js';
import type { EncodedResult } from '../../../src/plugins/api.js';
import { Frontend } from '../../../src/protocol/codes.js';
import * as w from '../fixtures/wire.js';

const rows = Buffer.concat([w.dataRow(['1']), w.dataRow(['2'])]);
const described: EncodedResult = {
  rowDescription: w.rowDescription([{ name: 'id', typeOid: 23 }]),
  dataRows: rows,
  rowCount: 2,
  command: 'SELECT 2',
};
const undescribed: EncodedResult = { ...described, rowDescription: null };

const message = (type: number): RoundMessage => ({ type, buf: Buffer.alloc(0), info: null });
const query = [message(Frontend.Query)];
const describing = [Frontend.Bind, Frontend.Describe, Frontend.Execute, Frontend.Sync].map(message);
const executing = [Frontend.Bind, Frontend.Execute, Frontend.Sync].map(message);

describe('a stored result answering a round', () => {
  it('answers any round when it has its RowDescription', () => {
    for (const round of [query, describing, executing]) expect(answersRound(round, described)).toBe(true);
  });

  it('answers only a round that asks for no description when it was kept without one', () => {
    expect(answersRound(query, undescribed)).toBe(false);
    expect(answersRound(describing, undescribed)).toBe(false);
    expect(answersRound(executing, undescribed)).toBe(true);
  });
});

describe('the greeting', () => {
  const server = new Map([
    ['DateStyle', 'ISO, MDY'],
    ['TimeZone', 'UTC'],
    ['server_version', '15.8'],
    ['client_encoding', 'UTF8'],
  ]);

  it('shows the client its startup settings under the server’s spelling, and other reported ones it gave', () => {
    const startup = new Map([
      ['datestyle', 'SQL, DMY'],
      ['client_encoding', 'utf-8'],
      ['application_name', 'drift'],
      ['work_mem', '8MB'],
    ]);
    expect(greetingSettings(server, startup)).toEqual(
      new Map([
        ['DateStyle', 'SQL, DMY'],
        ['TimeZone', 'UTC'],
        ['server_version', '15.8'],
        ['client_encoding', 'UTF8'],
        ['application_name', 'drift'],
      ]),
    );
  });
});
