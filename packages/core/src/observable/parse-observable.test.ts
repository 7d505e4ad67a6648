import { describe, expect, it } from 'vitest';
import { isXEnrichError } from '../contract/x-enrich-error.js';
import { normalizeObservable, parseObservable, tryParseObservable } from './parse-observable.js';

const parsed = (raw: string) => parseObservable(raw).observable;
const failure = (raw: string) => {
  const result = tryParseObservable(raw);
  if (result.ok) throw new Error(`expected ${raw} to be rejected, got ${JSON.stringify(result.observable)}`);
  return result.error;
};

describe('IPv4-mapped IPv6', () => {
  it('is the IPv4 address it maps, whichever way it is written or typed', () => {
    for (const raw of ['::ffff:8.8.8.8', '::FFFF:808:808', '[::ffff:8.8.8.8]', 'ip:::ffff:8.8.8.8', 'ipv6:::ffff:8.8.8.8']) {
      expect(parseObservable(raw)).toEqual({ observable: { type: 'ipv4', value: '8.8.8.8' }, input: raw });
    }
    expect(parseObservable({ type: 'ipv6', value: '::ffff:10.0.0.1' }).observable).toEqual({ type: 'ipv4', value: '10.0.0.1' });
    // Other IPv6 addresses that embed an IPv4 one stay IPv6 (NAT64, IPv4-compatible).
    expect(parseObservable('64:ff9b::8.8.8.8').observable.type).toBe('ipv6');
  });
});

describe('type detection and normalization', () => {
  it('ipv4', () => {
    expect(parsed(' 8.8.8.8 ')).toEqual({ type: 'ipv4', value: '8.8.8.8' });
    expect(parsed('192[.]168[.]0[.]1')).toEqual({ type: 'ipv4', value: '192.168.0.1' });
  });

  it('ipv4 with leading zeros is refused as ambiguous (octal in some tools)', () => {
    expect(failure('010.1.1.1').message).toBe('"010.1.1.1" is not a valid ipv4: octet "010" has a leading zero, which some tools read as octal; write it without');
    expect(failure('1.2.3.256').message).toContain('octet 256 is greater than 255');
  });

  it('ipv6 is canonical: compressed and lower-case', () => {
    expect(parsed('2001:0DB8:0000:0000:0000:0000:0000:0001')).toEqual({ type: 'ipv6', value: '2001:db8::1' });
    expect(parsed('[FE80::0:0:1]')).toEqual({ type: 'ipv6', value: 'fe80::1' });
    expect(parsed('::1')).toEqual({ type: 'ipv6', value: '::1' });
    expect(failure('fe80::1%eth0').message).toContain('zone IDs');
    expect(failure('2001:db8::g').code).toBe('X_OBSERVABLE_INVALID');
  });

  it('domain: lower-case, punycode, no trailing dot', () => {
    expect(parsed('WWW.Example.COM.')).toEqual({ type: 'domain', value: 'www.example.com' });
    expect(parsed('bücher.de')).toEqual({ type: 'domain', value: 'xn--bcher-kva.de' });
    expect(parsed('evil[.]example[dot]org')).toEqual({ type: 'domain', value: 'evil.example.org' });
    expect(parsed('_dmarc.example.com')).toEqual({ type: 'domain', value: '_dmarc.example.com' });
    expect(failure('-bad.example.com').message).toContain('label "-bad" is invalid');
    expect(failure('a..example.com').message).toContain('empty labels');
  });

  it('url: scheme and host normalized, path and query kept byte for byte', () => {
    expect(parsed('HXXPS[://]Evil[.]Example[.]COM/Payload.EXE?Key=Value#Frag')).toEqual({ type: 'url', value: 'https://evil.example.com/Payload.EXE?Key=Value#Frag' });
    expect(parsed('http://Bücher.de/Ä')).toEqual({ type: 'url', value: 'http://xn--bcher-kva.de/Ä' });
    expect(parsed('http://example.com:80/x')).toEqual({ type: 'url', value: 'http://example.com/x' });
    expect(parsed('http://[2001:DB8:0::1]:8080/')).toEqual({ type: 'url', value: 'http://[2001:db8::1]:8080/' });
    // Credentials are removed from the value (never sent upstream); `input` keeps them.
    expect(parsed('http://user[at]example[.]com/')).toEqual({ type: 'url', value: 'http://example.com/' });
    expect(parseObservable('https://admin:s3cret@Example.com:443/a?b#c')).toEqual({ observable: { type: 'url', value: 'https://example.com/a?b#c' }, input: 'https://admin:s3cret@Example.com:443/a?b#c' });
    expect(parseObservable({ type: 'url', value: 'ftp://u:p@host.example/x' }).observable.value).toBe('ftp://host.example/x');
    expect(failure('http://exa mple.com/').message).toContain('no whitespace');
    expect(failure('file:///etc/passwd').message).toContain('needs a host');
  });

  it('hashes by length, lower-cased', () => {
    expect(parsed('D41D8CD98F00B204E9800998ECF8427E')).toEqual({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' });
    expect(parsed('da39a3ee5e6b4b0d3255bfef95601890afd80709')).toEqual({ type: 'sha1', value: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' });
    expect(parsed('E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855').type).toBe('sha256');
    expect(failure('d41d8cd98f00b204e9800998ecf8427e00').message).toContain('34 characters is not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash');
  });
});

describe('type:value', () => {
  it('skips detection and validates for the named type', () => {
    expect(parsed('domain:Example.ORG')).toEqual({ type: 'domain', value: 'example.org' });
    expect(parsed('ipv6:::1')).toEqual({ type: 'ipv6', value: '::1' });
    expect(parsed('ip:8.8.8.8')).toEqual({ type: 'ipv4', value: '8.8.8.8' });
    expect(parsed('hash:D41D8CD98F00B204E9800998ECF8427E')).toEqual({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' });
    expect(parsed('url:hxxp://example[.]com/')).toEqual({ type: 'url', value: 'http://example.com/' });
  });

  it('names the type in the reason when the value does not fit it', () => {
    expect(failure('domain:1.2.3.4').message).toBe('"domain:1.2.3.4" is not a valid domain: the last label is numeric, so this is not a domain (an invalid IPv4 address?)');
    expect(failure('sha1:abc').message).toBe('"sha1:abc" is not a valid sha1: SHA-1 hashes have 40 hex characters, this has 3');
    expect(failure('ip:example.com').message).toBe('"ip:example.com" is not a valid IP address: it is a domain');
  });

  it('rejects unknown types with their own code', () => {
    const error = failure('email:someone@example.com');
    expect(error.code).toBe('X_OBSERVABLE_UNSUPPORTED_TYPE');
    expect(error.message).toContain('unsupported type "email"');
  });
});

describe('invalid input', () => {
  it('names the input and the reason', () => {
    const error = failure('foo');
    expect(error.code).toBe('X_OBSERVABLE_INVALID');
    expect(error.message).toBe('"foo" is not an observable: no type matches (expected an IP, domain, URL or MD5/SHA-1/SHA-256 hash)');
    expect(error.details).toMatchObject({ input: 'foo' });
  });

  it('explains near misses', () => {
    expect(failure('   ').message).toContain('it is empty');
    expect(failure('example.com/path').message).toContain('URL without a scheme');
    expect(failure('10.0.0.0/8').message).toContain('CIDR');
    expect(failure('exa\u0000mple.com').message).toContain('control characters');
  });

  it('throws XEnrichError from parseObservable', () => {
    expect(() => parseObservable('not an observable')).toThrow(expect.objectContaining({ code: 'X_OBSERVABLE_INVALID' }));
    try {
      parseObservable('nope');
    } catch (error) {
      expect(isXEnrichError(error)).toBe(true);
    }
  });

  it('keeps long inputs out of the message', () => {
    expect(failure('x'.repeat(10_000)).message.length).toBeLessThan(400);
  });
});

describe('normalizeObservable', () => {
  it('normalizes a typed object', () => {
    expect(normalizeObservable({ type: 'domain', value: ' Evil[.]COM ' })).toEqual({ type: 'domain', value: 'evil.com' });
    expect(parseObservable({ type: 'md5', value: 'D41D8CD98F00B204E9800998ECF8427E' })).toEqual({ observable: { type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' }, input: 'D41D8CD98F00B204E9800998ECF8427E' });
  });

  it('rejects unknown types and wrong values', () => {
    expect(() => normalizeObservable({ type: 'email' as never, value: 'a@b.c' })).toThrow(expect.objectContaining({ code: 'X_OBSERVABLE_UNSUPPORTED_TYPE' }));
    expect(() => normalizeObservable({ type: 'ipv4', value: 'example.com' })).toThrow(expect.objectContaining({ code: 'X_OBSERVABLE_INVALID' }));
  });
});
