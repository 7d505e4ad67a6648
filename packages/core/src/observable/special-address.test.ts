import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { parseObservable } from './parse-observable.js';
import { specialAddress } from './special-address.js';

const rangeOf = (raw: string) => specialAddress(parseObservable(raw).observable)?.range;

describe('specialAddress', () => {
  it('names private, loopback, link-local, unspecified, multicast and shared IPv4 ranges', () => {
    expect(['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1'].map(rangeOf)).toEqual(['private', 'private', 'private', 'private']);
    expect(rangeOf('127.0.0.1')).toBe('loopback');
    expect(rangeOf('169.254.169.254')).toBe('linkLocal');
    expect(rangeOf('0.0.0.0')).toBe('unspecified');
    expect(rangeOf('224.0.0.251')).toBe('multicast');
    expect(rangeOf('255.255.255.255')).toBe('broadcast');
    expect(rangeOf('100.64.0.1')).toBe('carrierGradeNat');
  });

  it('names the IPv6 ones, and judges an IPv4-mapped address by its IPv4 address', () => {
    expect(rangeOf('::1')).toBe('loopback');
    expect(rangeOf('::')).toBe('unspecified');
    expect(rangeOf('fe80::1')).toBe('linkLocal');
    expect(rangeOf('fd00::1')).toBe('uniqueLocal');
    expect(rangeOf('ff02::1')).toBe('multicast');
    expect(rangeOf('::ffff:192.168.0.1')).toBe('private');
    expect(rangeOf('::ffff:127.0.0.1')).toBe('loopback');
    expect(rangeOf('::ffff:8.8.8.8')).toBeUndefined();
  });

  it('leaves public and documentation addresses, and other types, alone', () => {
    for (const raw of ['8.8.8.8', '172.32.0.1', '11.0.0.1', '198.51.100.7', '192.0.2.1', '2001:db8::1', '2606:4700::1111', 'example.org', 'http://10.0.0.1/x']) {
      expect(rangeOf(raw), raw).toBeUndefined();
    }
  });

  it('describes the range for people', () => {
    expect(specialAddress({ type: 'ipv4', value: '10.0.0.1' })?.description).toBe('a private address (RFC 1918)');
  });
});

describe('the first-octet pre-filter', () => {
  it('agrees with ipaddr.js on every IPv4 address it lets through (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (value) => {
        const range = ipaddr.parse(value).range();
        const special = specialAddress({ type: 'ipv4', value });
        expect(special?.range).toBe(['private', 'loopback', 'linkLocal', 'unspecified', 'multicast', 'broadcast', 'carrierGradeNat'].includes(range) ? range : undefined);
      }),
      { numRuns: 20_000 },
    );
  });
});
