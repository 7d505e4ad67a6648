import { describe, expect, it } from 'vitest';
import { describeListening, isLoopback, listenError } from './listen.js';

describe('the listening line', () => {
  it('names the address actually bound, and says a wildcard listens on every interface', () => {
    expect(describeListening([{ address: '127.0.0.1', family: 'IPv4', port: 8080 }])).toBe('http://127.0.0.1:8080');
    expect(describeListening([{ address: '0.0.0.0', family: 'IPv4', port: 8080 }])).toBe('http://0.0.0.0:8080 (all IPv4 interfaces)');
    expect(describeListening([{ address: '::', family: 'IPv6', port: 8080 }])).toBe('http://[::]:8080 (all interfaces)');
    // `localhost` binds both loopbacks.
    expect(
      describeListening([
        { address: '127.0.0.1', family: 'IPv4', port: 8080 },
        { address: '::1', family: 'IPv6', port: 8080 },
      ]),
    ).toBe('http://127.0.0.1:8080 and http://[::1]:8080');
  });

  it('tells loopback from exposed addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '192.0.2.10'].map(isLoopback)).toEqual([false, false, false]);
  });
});

describe('listen errors', () => {
  const failure = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

  it('explain in one line, naming host:port and what to do', () => {
    expect(listenError(failure('EADDRINUSE'), '127.0.0.1', 8080)?.message).toMatch(/^serve: cannot listen on 127\.0\.0\.1:8080: the port is already in use.*--port/);
    expect(listenError(failure('EADDRNOTAVAIL'), '192.0.2.10', 8080)?.message).toMatch(/^serve: cannot listen on 192\.0\.2\.10:8080: 192\.0\.2\.10 is not an address of this machine.*--host/);
    expect(listenError(failure('EACCES'), '::1', 80)?.message).toMatch(/^serve: cannot listen on \[::1\]:80: permission denied.*--port/);
    for (const code of ['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES']) expect(listenError(failure(code), 'h', 1)?.message).not.toContain('\n');
  });

  it('leave anything else an unexpected error', () => {
    expect(listenError(failure('EMFILE'), '127.0.0.1', 8080)).toBeUndefined();
    expect(listenError(new Error('boom'), '127.0.0.1', 8080)).toBeUndefined();
  });
});
