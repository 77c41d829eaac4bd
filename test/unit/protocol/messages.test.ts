// The proxy's own message builders (backend and frontend) byte-for-byte against the independent fixtures.
import { describe, expect, it } from 'vitest';
import * as be from '../../../src/protocol/backend-messages.js';
import * as fe from '../../../src/protocol/frontend-messages.js';
import * as w from '../fixtures/wire.js';

const same = (actual: Buffer, expected: Buffer) =>
  expect(actual.toString('hex')).toBe(expected.toString('hex'));

describe('backend message builders', () => {
  it('fixed-size replies', () => {
    same(be.parseComplete, w.parseComplete());
    same(be.bindComplete, w.bindComplete());
    same(be.closeComplete, w.closeComplete());
    same(be.noData, w.noData());
    same(be.emptyQueryResponse, w.emptyQueryResponse());
    same(be.readyForQuery(0x49), w.readyForQuery('I'));
    same(be.readyForQuery(0x54), w.readyForQuery('T'));
    same(be.readyForQuery(0x45), w.readyForQuery('E'));
  });

  it('authentication requests', () => {
    same(be.authenticationOk, w.authenticationOk());
    same(be.authenticationCleartext, w.authenticationCleartext());
    const salt = Buffer.from([1, 2, 0xfe, 0xff]);
    same(be.authenticationMD5(salt), w.authenticationMD5(salt));
    same(
      be.authenticationSASL(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS']),
      w.authenticationSASL(['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS']),
    );
    same(
      be.authenticationSASLContinue('r=abc,s=c2FsdA==,i=4096'),
      w.authenticationSASLContinue('r=abc,s=c2FsdA==,i=4096'),
    );
    same(be.authenticationSASLFinal('v=xyz'), w.authenticationSASLFinal('v=xyz'));
  });

  it('ParameterStatus, BackendKeyData, NegotiateProtocolVersion', () => {
    same(be.parameterStatus('application_name', 'ünï'), w.parameterStatus('application_name', 'ünï'));
    same(be.backendKeyData(4242, -559038737), w.backendKeyData(4242, -559038737));
    same(
      be.negotiateProtocolVersion(0, ['_pq_.a', '_pq_.b']),
      w.negotiateProtocolVersion(0, ['_pq_.a', '_pq_.b']),
    );
    same(be.negotiateProtocolVersion(0, []), w.negotiateProtocolVersion(0, []));
  });

  it('ErrorResponse and NoticeResponse with optional detail and hint', () => {
    same(
      be.errorResponse({
        severity: 'FATAL',
        sqlstate: '28P01',
        message: 'password authentication failed for user "x"',
      }),
      w.errorResponse([
        ['S', 'FATAL'],
        ['V', 'FATAL'],
        ['C', '28P01'],
        ['M', 'password authentication failed for user "x"'],
      ]),
    );
    same(
      be.noticeResponse({ severity: 'WARNING', sqlstate: '01000', message: 'm', detail: 'd', hint: 'h' }),
      w.noticeResponse([
        ['S', 'WARNING'],
        ['V', 'WARNING'],
        ['C', '01000'],
        ['M', 'm'],
        ['D', 'd'],
        ['H', 'h'],
      ]),
    );
  });

  it('ErrorResponse longer than the writer’s initial capacity', () => {
    const message = 'é'.repeat(300);
    same(
      be.errorResponse({ severity: 'ERROR', sqlstate: '22000', message }),
      w.errorResponse([
        ['S', 'ERROR'],
        ['V', 'ERROR'],
        ['C', '22000'],
        ['M', message],
      ]),
    );
  });

  it('CommandComplete, RowDescription, DataRow', () => {
    same(be.commandComplete('SELECT 3'), w.commandComplete('SELECT 3'));
    same(
      be.rowDescription([
        { name: 'id', typeOid: 23, typeSize: 4 },
        { name: 'név', typeOid: 25 },
      ]),
      w.rowDescription([
        { name: 'id', typeOid: 23, typeSize: 4 },
        { name: 'név', typeOid: 25, typeSize: -1 },
      ]),
    );
    same(be.rowDescription([]), w.rowDescription([]));
    same(be.dataRow(['1', null, '', 'ünï']), w.dataRow(['1', null, '', 'ünï']));
    const many = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? null : 'v'.repeat(i)));
    same(be.dataRow(many), w.dataRow(many));
  });
});

describe('frontend message builders', () => {
  it('SSLRequest, Sync, Terminate', () => {
    same(fe.sslRequest, w.sslRequest());
    same(fe.sync, w.sync());
    same(fe.terminate, w.terminate());
  });

  it('StartupMessage with parameters in order', () => {
    same(
      fe.startupMessage({ user: 'postgres', database: 'app', application_name: 'polyproxy' }),
      w.startupMessage([
        ['user', 'postgres'],
        ['database', 'app'],
        ['application_name', 'polyproxy'],
      ]),
    );
    const long = 'x'.repeat(500);
    same(fe.startupMessage({ user: long }), w.startupMessage([['user', long]]));
  });

  it('CancelRequest', () => {
    same(fe.cancelRequest(77, -123456789), w.cancelRequest(77, -123456789));
  });

  it('password and SASL messages', () => {
    same(fe.passwordMessage('md5abc'), w.passwordMessage('md5abc'));
    same(
      fe.saslInitialResponse('SCRAM-SHA-256', 'n,,n=,r=nonce'),
      w.saslInitialResponse('SCRAM-SHA-256', 'n,,n=,r=nonce'),
    );
    same(fe.saslResponse('c=biws,r=nonce,p=proof'), w.saslResponse('c=biws,r=nonce,p=proof'));
  });

  it('Query counts the UTF-8 bytes, not the characters', () => {
    same(fe.query('SELECT 1'), w.query('SELECT 1'));
    same(fe.query("SELECT 'ünïcødé 😀'"), w.query("SELECT 'ünïcødé 😀'"));
    same(fe.query('😀'.repeat(100)), w.query('😀'.repeat(100)));
  });
});
