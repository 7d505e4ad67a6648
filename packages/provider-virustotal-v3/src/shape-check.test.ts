import { readFileSync } from 'node:fs';
import { parseJsonWithout, type Observable, type ObservableType, type ProviderOutcome } from '@x/core';
import { startSimulator } from '@x/virustotal-simulator';
import { describe, expect, it } from 'vitest';
import { attributesOf, fixtureNames, loadFixture } from '../test/load-fixture.js';
import { UNREAD_MEMBERS } from './client.js';
import { EXTRACT_GROUPS } from './depth.js';
import { DEFAULT_MALICE_RULES, GTI_PREFERRED_MALICE_RULES, type MaliceRule } from './malice-rules.js';
import { extractFields, mapV3Object, parseV3Object, popularThreatName, shapeCheck, unixToIso, type DepthMapping, type V3Lookup, type V3Object } from './mapping.js';

// The shape check returns the body's own object where zod would return its copy (with zod's key
// order). These tests hold the two paths to the same output: every captured fixture, objects
// the simulator generates, and variants of them made to pass or fail in every checked place.

const OBSERVABLE_OF: Record<V3Lookup['objectType'], ObservableType> = { ip_address: 'ipv4', domain: 'domain', file: 'sha256', url: 'url' };

function observableOf(object: { type: string; id: string; attributes: Record<string, unknown> }): Observable {
  const type = OBSERVABLE_OF[object.type as V3Lookup['objectType']];
  const value = type === 'url' ? ((object.attributes.url as string | undefined) ?? 'https://example.org/') : type === 'ipv4' && !/^\d+\.\d+\.\d+\.\d+$/.test(object.id) ? '192.0.2.1' : object.id;
  return { type, value };
}

/** What mapV3Object gives, or the message it throws. `raw` is left out: it is the body, which differs by construction. */
function mapped(observable: Observable, body: unknown, rules = DEFAULT_MALICE_RULES): string {
  try {
    const outcome: ProviderOutcome = mapV3Object(observable, body, rules);
    const { raw: _raw, ...rest } = outcome as ProviderOutcome & { raw?: unknown };
    return JSON.stringify(rest);
  } catch (error) {
    return `throws ${(error as Error).name}: ${(error as Error).message}`;
  }
}

/** zod's copy of the object (its key order), or undefined when zod refuses the body. */
function zodCopy(body: unknown, type: V3Lookup['objectType']): unknown {
  try {
    return parseV3Object(body, type, false);
  } catch {
    return undefined;
  }
}

function thrown(run: () => unknown): string {
  try {
    run();
    return 'no throw';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

/**
 * The two paths agree on `body`: the shape check only vouches for what zod accepts, the object it
 * returns holds zod's values, and mapV3Object's output (bytes) and failures are the same whether
 * the object is the body's own or zod's copy.
 */
function expectSamePaths(body: unknown, type: V3Lookup['objectType'], observable: Observable): { shortcut: boolean } {
  const data = (body as { data?: unknown }).data;
  const checked = shapeCheck(data);
  const copy = zodCopy(body, type);
  // Same result or same error from parseV3Object with and without the shortcut.
  expect(thrown(() => parseV3Object(body, type, true))).toBe(thrown(() => parseV3Object(body, type, false)));
  if (checked !== undefined) {
    // Vouched for: zod accepts the object too (unless only the type is wrong), with equal values.
    if (checked.type === type) {
      expect(copy).toBeDefined();
      expect(checked).toEqual(copy);
      expect(JSON.stringify(extractFields(observable, checked))).toBe(JSON.stringify(extractFields(observable, copy as typeof checked)));
    }
  }
  // mapV3Object on the body (shortcut where the shape check vouches) against mapV3Object on zod's
  // copy of the object (the shape check passes it through as it is: zod's values, zod's order).
  const viaBody = mapped(observable, body);
  if (copy !== undefined) {
    expect(viaBody).toBe(mapped(observable, { data: copy }));
    const object = copy as V3Object;
    if (object.type === type) expect(JSON.stringify(extractFields(observable, object))).toBe(JSON.stringify(referenceExtract(observable, object)));
  }
  else expect(viaBody).toMatch(/^throws /);
  // Rules reading the extra attributes take zod's path whatever the shape: same answer both ways.
  if (copy !== undefined) expect(mapped(observable, body, GTI_PREFERRED_MALICE_RULES)).toBe(mapped(observable, { data: copy }, GTI_PREFERRED_MALICE_RULES));
  return { shortcut: checked !== undefined };
}

/**
 * extractFields as it was written before (spreads of shared parts), kept here as the reference
 * for the key order and values of the written-out literals.
 */
function referenceExtract(observable: Observable, object: V3Object): Record<string, unknown> {
  const a = object.attributes;
  const stats = a.last_analysis_stats ?? null;
  const count = (key: string): number | null => (stats === null ? null : (stats[key] ?? 0));
  const common = { malicious_count: count('malicious'), suspicious_count: count('suspicious') };
  const reference = extractFields(observable, object);
  const shared = {
    total_engines: stats === null ? null : Object.values(stats).reduce((total, value) => total + value, 0),
    last_analysis_date: unixToIso(a.last_analysis_date),
    reputation: a.reputation ?? null,
    tags: a.tags ?? null,
    gui_url: reference.gui_url,
  };
  switch (object.type) {
    case 'ip_address':
      return { ...common, harmless_count: count('harmless'), country: a.country ?? null, as_owner: a.as_owner ?? null, network: a.network ?? null, ...shared };
    case 'domain':
      return { ...common, categories: a.categories ?? null, registrar: a.registrar ?? null, creation_date: unixToIso(a.creation_date), ...shared };
    case 'file':
      return {
        ...common,
        type_description: a.type_description ?? null,
        file_size: a.size ?? null,
        first_submission_date: unixToIso(a.first_submission_date),
        popular_threat_name: popularThreatName(a.popular_threat_classification),
        md5: a.md5 ?? null,
        sha1: a.sha1 ?? null,
        sha256: a.sha256 ?? null,
        ...shared,
      };
    default:
      return { ...common, harmless_count: count('harmless'), url: a.url ?? null, final_url: a.last_final_url ?? null, title: a.title ?? null, categories: a.categories ?? null, ...shared };
  }
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Variants of one object body: each checked attribute missing, null, of a wrong type; nested lists and records broken; odd objects. */
function variants(body: { data: { attributes: Record<string, unknown> } & Record<string, unknown> }): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const withData = (name: string, change: (data: Record<string, unknown>, attributes: Record<string, unknown>) => void) => {
    const copy = clone(body);
    change(copy.data, copy.data.attributes);
    out.push([name, copy]);
  };
  const STRING_FIELDS = ['country', 'as_owner', 'network', 'registrar', 'type_description', 'md5', 'sha1', 'sha256', 'url', 'last_final_url', 'title'];
  const NUMBER_FIELDS = ['last_analysis_date', 'reputation', 'creation_date', 'size', 'first_submission_date'];
  for (const field of [...STRING_FIELDS, ...NUMBER_FIELDS, 'last_analysis_stats', 'tags', 'categories', 'popular_threat_classification']) {
    withData(`${field} missing`, (_d, a) => delete a[field]);
    withData(`${field} null`, (_d, a) => (a[field] = null));
    withData(`${field} a boolean`, (_d, a) => (a[field] = true));
    withData(`${field} an array`, (_d, a) => (a[field] = []));
  }
  for (const field of STRING_FIELDS) withData(`${field} a number`, (_d, a) => (a[field] = 7));
  for (const field of NUMBER_FIELDS) {
    withData(`${field} a string`, (_d, a) => (a[field] = '1600000000'));
    withData(`${field} NaN`, (_d, a) => (a[field] = Number.NaN));
    withData(`${field} Infinity`, (_d, a) => (a[field] = Number.POSITIVE_INFINITY));
    withData(`${field} zero`, (_d, a) => (a[field] = 0));
    withData(`${field} negative, fractional`, (_d, a) => (a[field] = -1.5));
  }
  withData('stats: a string count', (_d, a) => (a.last_analysis_stats = { ...(a.last_analysis_stats as object), malicious: '3' }));
  withData('stats: a NaN count', (_d, a) => (a.last_analysis_stats = { ...(a.last_analysis_stats as object), malicious: Number.NaN }));
  withData('stats: all zero', (_d, a) => (a.last_analysis_stats = { harmless: 0, malicious: 0, suspicious: 0, undetected: 0, timeout: 0 }));
  withData('stats: a __proto__ key', (_d, a) => (a.last_analysis_stats = JSON.parse('{"malicious": 2, "__proto__": 3}')));
  withData('tags: a number in the list', (_d, a) => (a.tags = ['a', 1]));
  withData('tags: strings', (_d, a) => (a.tags = ['b', 'a', '']));
  withData('categories: a number value', (_d, a) => (a.categories = { x: 1 }));
  withData('categories: numeric keys first', (_d, a) => (a.categories = { z: 'a', 10: 'b', 2: 'c' }));
  withData('threat classification: an entry without a count', (_d, a) => (a.popular_threat_classification = { popular_threat_name: [{ value: 'x' }] }));
  withData('threat classification: a string count', (_d, a) => (a.popular_threat_classification = { popular_threat_category: [{ value: 'x', count: '2' }] }));
  withData('threat classification: a label only', (_d, a) => (a.popular_threat_classification = { suggested_threat_label: 'trojan.x/y' }));
  withData('threat classification: a number label', (_d, a) => (a.popular_threat_classification = { suggested_threat_label: 5 }));
  withData('threat classification: ties and extras', (_d, a) => (a.popular_threat_classification = { popular_threat_name: [{ value: 'b', count: 2, extra: true }, { value: 'a', count: 2 }], more: 1 }));
  withData('attributes missing', (d) => delete d.attributes);
  withData('attributes null', (d) => (d.attributes = null));
  withData('attributes an array', (d) => (d.attributes = []));
  withData('type missing', (d) => delete d.type);
  withData('type a number', (d) => (d.type = 3));
  withData('another type', (d) => (d.type = d.type === 'file' ? 'url' : 'file'));
  withData('id a number', (d) => (d.id = 5));
  withData('relationships present', (d) => (d.relationships = { resolutions: { data: [] } }));
  withData('relationships not an object', (d) => (d.relationships = 'x'));
  withData('extra keys in data and attributes', (d, a) => {
    d.zz = 1;
    a.aaa_first = { nested: [1, 2] };
  });
  withData('attributes in reverse key order', (d, a) => {
    const reversed = Object.fromEntries(Object.entries(a).reverse());
    d.attributes = reversed;
  });
  // Not JSON.parse's objects: zod's path decides.
  const instance = clone(body);
  instance.data = Object.assign(new (class Thing {})(), instance.data);
  out.push(['data a class instance', instance]);
  const bare = clone(body);
  bare.data.attributes = Object.assign(Object.create(null) as object, bare.data.attributes);
  out.push(['attributes without a prototype', bare]);
  out.push(['the bare object (no data wrapper)', clone(body.data)]);
  out.push(['data null', { data: null }]);
  out.push(['data an array', { data: [] }]);
  return out;
}

type ObjectBody = { data: { type: string; id: string; attributes: Record<string, unknown> } & Record<string, unknown> };

const objectFixtures = fixtureNames('').filter((name) => !name.startsWith('error_') && !name.startsWith('collection_'));

describe('shapeCheck against zod, byte for byte', () => {
  it('covers every captured object fixture', () => {
    expect(objectFixtures.length).toBeGreaterThan(20);
  });

  it.each(objectFixtures)('%s: the same output through both paths, and in every variant', (name) => {
    const capture = loadFixture(name);
    const object = attributesOf(capture);
    const type = object.type as V3Lookup['objectType'];
    const observable = observableOf(object);
    const body = ('data' in capture ? capture : { data: capture }) as ObjectBody;
    const { shortcut } = expectSamePaths(body, type, observable);
    // Captured answers without relationships are the common case the shortcut is for.
    if (body.data.relationships === undefined) expect(shortcut).toBe(true);
    for (const [variant, changed] of variants(body)) {
      try {
        expectSamePaths(changed, type, observable);
      } catch (error) {
        throw new Error(`${name}, ${variant}: ${(error as Error).message}`);
      }
    }
  });

  it('the simulator\'s generated objects (every type and outcome): the same output, by the shortcut', async () => {
    const sim = await startSimulator({ port: 0, apiKeys: ['shape'], seed: 'shape-check' });
    try {
      const lookups: Array<[string, V3Lookup['objectType'], Observable]> = [];
      for (let i = 0; i < 40; i++) {
        lookups.push([`ip_addresses/12.0.0.${i}`, 'ip_address', { type: 'ipv4', value: `12.0.0.${i}` }]);
        lookups.push([`domains/host-${i}.example.com`, 'domain', { type: 'domain', value: `host-${i}.example.com` }]);
        const hash = (i.toString(16).padStart(2, '0') + 'ab').repeat(16);
        lookups.push([`files/${hash}`, 'file', { type: 'sha256', value: hash }]);
        const url = `https://site-${i}.example.com/p?q=${i}`;
        lookups.push([`urls/${Buffer.from(url).toString('base64url')}`, 'url', { type: 'url', value: url }]);
      }
      let compared = 0;
      for (const [path, type, observable] of lookups) {
        const response = await fetch(`${sim.v3Url}/${path}`, { headers: { 'x-apikey': 'shape' } });
        if (response.status !== 200) continue;
        const body = JSON.parse(await response.text()) as ObjectBody;
        expect(expectSamePaths(body, type, observable).shortcut).toBe(body.data.relationships === undefined);
        compared++;
        if (compared % 10 === 0) for (const [, changed] of variants(body)) expectSamePaths(changed, type, observable);
      }
      expect(compared).toBeGreaterThan(100);
    } finally {
      await sim.close();
    }
  });
});

describe('the members vt3 leaves unread (UNREAD_MEMBERS)', () => {
  // Core leaves them out of the parsed body when no lookup wants the raw response: every capture
  // must map to the same outcome either way, with every extract group and with the rules that
  // read the extra facts (what the provider reads at most).
  const everything: DepthMapping = { extract: EXTRACT_GROUPS, ruleText: true, relationships: true };
  const outcome = (observable: Observable, body: unknown, rules: readonly MaliceRule[], depth: DepthMapping): string => {
    try {
      const { raw: _raw, ...rest } = mapV3Object(observable, body, rules, depth) as ProviderOutcome & { raw?: unknown };
      return JSON.stringify(rest);
    } catch (error) {
      return `throws ${(error as Error).message}`;
    }
  };

  it.each(objectFixtures)('%s: the same outcome without them', (name) => {
    const capture = loadFixture(name);
    // The capture's own text (its spacing), wrapped as the API answers when it was saved without `data`.
    const file = readFileSync(new URL(`../test/fixtures/${name}.json`, import.meta.url), 'utf8');
    const text = 'data' in capture ? file : `{"data":${file}}`;
    const observable = observableOf(attributesOf(capture));
    // Cut whatever their share of the text (core cuts them only from a quarter up).
    const without = parseJsonWithout(text, UNREAD_MEMBERS, { minShare: 0 });
    expect(JSON.stringify(without)).not.toContain('"last_analysis_results"');
    for (const rules of [DEFAULT_MALICE_RULES, GTI_PREFERRED_MALICE_RULES]) {
      for (const depth of [{}, everything]) expect(outcome(observable, without, rules, depth)).toBe(outcome(observable, JSON.parse(text), rules, depth));
    }
  });
});
