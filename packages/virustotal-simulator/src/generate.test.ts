import { describe, expect, it } from 'vitest';
import { simulate, v3Document, v3Json } from './generate.js';
import { observableFor, outcomeFor } from './outcome.js';
import type { ObjectKind } from './observables.js';

describe('v3Json', () => {
  it('serialises exactly like JSON.stringify(v3Document(...)) for every kind and status', () => {
    const cases: Array<[ObjectKind, string]> = [
      ['ip_address', observableFor({ type: 'ipv4', malicious: 5, total: 70 })],
      ['domain', observableFor({ type: 'domain', suspicious: 3 })],
      ['file', observableFor({ type: 'sha256', malicious: 33, total: 100 })],
      ['file', observableFor({ type: 'md5', status: 'queued' })],
      ['url', 'http://m-9-of-90.example/'],
      ['file', 'ab'.repeat(32)],
    ];
    for (const [kind, value] of cases) {
      const object = simulate('seed', kind, value, value, value, outcomeFor('seed', kind, value, value));
      expect(v3Json(object)).toBe(JSON.stringify(v3Document(object)));
      expect(Object.keys((JSON.parse(v3Json(object)) as { data: { attributes: object } }).data.attributes)).toContain('last_analysis_results');
    }
  });
});
