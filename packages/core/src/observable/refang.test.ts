import { describe, expect, it } from 'vitest';
import { defang, refang } from './refang.js';

describe('refang', () => {
  it.each([
    ['hxxp://example.com', 'http://example.com'],
    ['hxxps://example.com', 'https://example.com'],
    ['hXXps://example.com', 'https://example.com'],
    ['h**p://example.com', 'http://example.com'],
    ['fxp://files.example.com', 'ftp://files.example.com'],
    ['example[.]com', 'example.com'],
    ['example(.)com', 'example.com'],
    ['example{.}com', 'example.com'],
    ['example[dot]com', 'example.com'],
    ['example(DOT)com', 'example.com'],
    ['example[ . ]com', 'example.com'],
    ['example\\.com', 'example.com'],
    ['http[:]//example.com', 'http://example.com'],
    ['hxxps[://]example.com', 'https://example.com'],
    ['hxxp(:)//example.com', 'http://example.com'],
    ['http://user[at]example.com', 'http://user@example.com'],
    ['http://user[@]example.com', 'http://user@example.com'],
    ['http://user(at)example.com', 'http://user@example.com'],
    ['hxxp[:][/][/]example.com', 'http://example.com'],
    ['1[.]2[.]3[.]4', '1.2.3.4'],
  ])('%s -> %s', (defanged, fanged) => {
    expect(refang(defanged)).toBe(fanged);
  });

  it('is stable: refanging twice changes nothing (found by fast-check)', () => {
    expect(refang('h\\[.]h')).toBe('h.h');
    expect(refang(refang('a[[.]].b'))).toBe(refang('a[[.]].b'));
  });

  it('leaves words that only start like a defanged scheme alone', () => {
    expect(refang('hxxpfoo and fxpbar')).toBe('hxxpfoo and fxpbar');
  });
});

describe('defang', () => {
  it('brackets the dots of IPv4 addresses and domains', () => {
    expect(defang({ type: 'ipv4', value: '8.8.8.8' })).toBe('8[.]8[.]8[.]8');
    expect(defang({ type: 'domain', value: 'evil.example.com' })).toBe('evil[.]example[.]com');
  });

  it('defangs the scheme, separator and host of URLs but keeps the path readable', () => {
    expect(defang({ type: 'url', value: 'https://evil.example.com/a.exe?x=1.2' })).toBe('hxxps[://]evil[.]example[.]com/a.exe?x=1.2');
    expect(defang({ type: 'url', value: 'ftp://files.example.org/' })).toBe('fxp[://]files[.]example[.]org/');
  });

  it('leaves IPv6 addresses and hashes as they are (not clickable)', () => {
    expect(defang({ type: 'ipv6', value: '2001:db8::1' })).toBe('2001:db8::1');
    expect(defang({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' })).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});
