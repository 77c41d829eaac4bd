// Bytes a session keeps past one read: copied into memory of their own.
import { describe, expect, it } from 'vitest';
import { ownedCopy } from '../../../src/net/socket-input.js';

describe('ownedCopy', () => {
  it('copies the range into a buffer that holds nothing else', () => {
    const chunk = Buffer.from('....SELECT 1....');
    const kept = ownedCopy(chunk, 4, 12);
    expect(kept.toString()).toBe('SELECT 1');
    expect(kept.buffer.byteLength).toBe(8);
    chunk.fill(0);
    expect(kept.toString()).toBe('SELECT 1');
  });
});
