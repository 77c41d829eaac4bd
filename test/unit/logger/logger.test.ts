// The logger's lines: absent fields are left out, secrets redacted.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';

function lines(format: 'json' | 'pretty', fields: Record<string, unknown>): string {
  const out: string[] = [];
  createLogger({ level: 'info', format, write: (l) => out.push(l) }).info('server is up', fields);
  return out.join('');
}

describe('logger', () => {
  it('leaves out a field whose value is undefined, in both formats', () => {
    const fields = { server: '127.0.0.1:5432', error: undefined };
    expect(lines('pretty', fields)).not.toContain('undefined');
    expect(lines('pretty', fields)).toContain('server=127.0.0.1:5432');
    expect(JSON.parse(lines('json', fields))).not.toHaveProperty('error');
  });

  it('still redacts a password field', () => {
    expect(lines('pretty', { password: 'hunter2' })).not.toContain('hunter2');
  });
});
