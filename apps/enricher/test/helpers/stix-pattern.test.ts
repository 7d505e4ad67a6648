import { describe, expect, it } from 'vitest';
import { stixPatternProblem } from './stix-pattern.js';

// The recognizer the STIX output tests rely on, on patterns from the STIX 2.1 spec's examples
// (section 9) and on the mistakes it must catch.
describe('STIX pattern recognizer (a port of OASIS STIXPattern.g4)', () => {
  it.each([
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[domain-name:value = 'example.com'] OR [ipv4-addr:value = '198.51.100.1/32']",
    "[ipv4-addr:value = '203.0.113.1' OR ipv4-addr:value = '203.0.113.2']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32'] FOLLOWEDBY [x:y != 3] WITHIN 300 SECONDS",
    "([a:b IN ('c', 1, true)] AND [d:e LIKE 'f%']) REPEATS 5 TIMES START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.123Z'",
    "[artifact:payload_bin = b'dGVzdA=='] AND [x509-certificate:serial_number = h'0aff'] AND [process:pid NOT <= -1]",
    '[NOT EXISTS user-account:is_disabled]',
    "[url:value = 'http://x.example/it\\'s%22']",
  ])('accepts %s', (pattern) => {
    expect(stixPatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ["[url:value = 'a\\b']", 'a backslash escapes only a quote or a backslash'],
    ["[url:value = 'x'", 'unclosed observation'],
    ["[url:value 'x']", 'no operator'],
    ["[url:value = 'x'] AND", 'dangling AND'],
    ["[url = 'x']", 'no property path'],
    ["[a:b > true]", 'order on a boolean'],
    ["[a:b = 'x'] WITHIN -5 SECONDS", 'negative WITHIN'],
    ["[a:b LIKE 3]", 'LIKE takes a string'],
    ["url:value = 'x'", 'no brackets'],
  ])('refuses %s (%s)', (pattern) => {
    expect(stixPatternProblem(pattern)).toBeDefined();
  });
});
