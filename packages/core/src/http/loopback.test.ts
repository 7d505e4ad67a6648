import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback.js';

describe('isLoopbackHost', () => {
  it('accepts localhost, 127.0.0.0/8 and [::1], in any case', () => {
    expect(['127.0.0.1', '127.255.255.254', 'localhost', 'LOCALHOST', '[::1]'].every(isLoopbackHost)).toBe(true);
  });

  it('refuses what only looks like one', () => {
    expect(['127.0.0.256', '10.0.0.1', '::1', 'localhost.', '127.0.0', '1127.0.0.1', 'localhost.example'].some(isLoopbackHost)).toBe(false);
  });
});
