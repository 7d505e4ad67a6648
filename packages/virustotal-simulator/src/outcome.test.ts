import { describe, expect, it } from 'vitest';
import { MAX_TOTAL, observableFor, OUTCOME_TABLE, outcomeObservables, reservedOutcome, seededOutcome, type ObjectKind, type SimObservableType } from './index.js';

const KIND: Record<SimObservableType, ObjectKind> = { ipv4: 'ip_address', ipv6: 'ip_address', domain: 'domain', url: 'url', md5: 'file', sha1: 'file', sha256: 'file' };

describe('the reserved outcome scheme', () => {
  it('round-trips every named outcome for every type', () => {
    for (const type of Object.keys(KIND) as SimObservableType[]) {
      for (const [name, value] of Object.entries(outcomeObservables(type, 3))) {
        const request = OUTCOME_TABLE[name as keyof typeof OUTCOME_TABLE];
        const outcome = reservedOutcome(KIND[type], value!);
        expect(outcome, `${type} ${name} ${value}`).toBeDefined();
        expect(outcome!.status).toBe(request.status ?? 'found');
        if (outcome!.status === 'found') {
          expect(outcome!.malicious).toBe(request.malicious ?? 0);
          expect(outcome!.suspicious).toBe(request.suspicious ?? 0);
        }
      }
    }
  });

  it('reads the documented examples', () => {
    expect(reservedOutcome('domain', 'malicious.example')).toMatchObject({ status: 'found', malicious: 60, total: 94 });
    expect(reservedOutcome('domain', 'a.b.m-5-of-70.example')).toMatchObject({ malicious: 5, suspicious: 0, total: 70 });
    expect(reservedOutcome('domain', 's-3-of-90.example')).toMatchObject({ malicious: 0, suspicious: 3, total: 90 });
    expect(reservedOutcome('domain', 'queued.example')).toMatchObject({ status: 'not_found' });
    expect(reservedOutcome('url', 'https://queued.example/x')).toMatchObject({ status: 'queued' });
    expect(reservedOutcome('url', 'http://198.18.5.70/x')).toMatchObject({ malicious: 5, total: 70 });
    expect(reservedOutcome('ip_address', '198.19.3.94')).toMatchObject({ malicious: 0, suspicious: 3, total: 94 });
    expect(reservedOutcome('ip_address', '192.0.2.55')).toMatchObject({ status: 'not_found' });
    expect(reservedOutcome('ip_address', '198.51.100.1')).toMatchObject({ malicious: 0, total: 94 });
    expect(reservedOutcome('ip_address', '203.0.113.9')).toMatchObject({ malicious: 60 });
    expect(reservedOutcome('ip_address', '2001:db8:5:0:70::1')).toMatchObject({ malicious: 5, total: 70 });
    expect(reservedOutcome('ip_address', '2001:db8::1')).toMatchObject({ status: 'not_found' });
    expect(reservedOutcome('file', '000000001005003070' + '0'.repeat(14))).toMatchObject({ malicious: 5, suspicious: 3, total: 70 });
    expect(reservedOutcome('file', '000000000' + '0'.repeat(31))).toMatchObject({ status: 'not_found' });
  });

  it('leaves ordinary and impossible values to the seeded mix', () => {
    expect(reservedOutcome('domain', 'example.com')).toBeUndefined();
    expect(reservedOutcome('domain', 'm-80-of-70.example')).toBeUndefined();
    expect(reservedOutcome('ip_address', '8.8.8.8')).toBeUndefined();
    expect(reservedOutcome('file', 'ab'.repeat(16))).toBeUndefined();
  });

  it('refuses outcomes a type cannot express, saying why', () => {
    expect(() => observableFor({ type: 'domain', status: 'queued' })).toThrow(/never queues/);
    expect(() => observableFor({ type: 'ipv4', malicious: 1, suspicious: 1 })).toThrow(/ipv6/);
    expect(() => observableFor({ type: 'md5', malicious: 5, total: MAX_TOTAL + 1 })).toThrow(/total/);
    expect(() => observableFor({ type: 'md5', malicious: 5, total: 4 })).toThrow(/malicious \+ suspicious <= total/);
  });

  it('makes distinct observables with variants', () => {
    const a = observableFor({ type: 'sha256', malicious: 5, variant: 1 });
    const b = observableFor({ type: 'sha256', malicious: 5, variant: 2 });
    expect(a).not.toBe(b);
    expect(reservedOutcome('file', a)).toEqual(reservedOutcome('file', b));
  });
});

describe('the seeded mix', () => {
  it('is a pure function of (seed, kind, identity)', () => {
    expect(seededOutcome('s', 'domain', 'example.com')).toEqual(seededOutcome('s', 'domain', 'example.com'));
  });

  it('is mostly clean and covers every band, with queued only for files and URLs', () => {
    for (const kind of ['file', 'url', 'domain', 'ip_address'] as const) {
      const outcomes = Array.from({ length: 3000 }, (_, i) => seededOutcome('mix', kind, `value-${i}`));
      const share = (test: (o: (typeof outcomes)[number]) => boolean) => outcomes.filter(test).length / outcomes.length;
      expect(share((o) => o.status === 'found' && o.malicious === 0 && o.suspicious === 0)).toBeGreaterThan(0.5);
      expect(share((o) => o.status === 'not_found')).toBeGreaterThan(0.02);
      expect(share((o) => o.malicious >= 1 && o.malicious <= 4)).toBeGreaterThan(0.03);
      expect(share((o) => o.malicious === 0 && o.suspicious >= 3)).toBeGreaterThan(0.02);
      const rate = (o: (typeof outcomes)[number]) => (o.malicious * 100) / o.total;
      expect(share((o) => o.malicious >= 5 && rate(o) < 33)).toBeGreaterThan(0.02);
      expect(share((o) => rate(o) > 33 && rate(o) < 66)).toBeGreaterThan(0.02);
      expect(share((o) => rate(o) > 66)).toBeGreaterThan(0.02);
      const queued = share((o) => o.status === 'queued');
      if (kind === 'file' || kind === 'url') expect(queued).toBeGreaterThan(0.005);
      else expect(queued).toBe(0);
    }
  });
});
