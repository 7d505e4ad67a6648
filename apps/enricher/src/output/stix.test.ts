import { describe, expect, it } from 'vitest';
import { invalidItem, sampleItems } from '../../test/helpers/items.js';
import { stixProblems } from '../../test/helpers/stix.js';
import { buildStixBundle, createStixFormatter, observableToSco, stixPattern, type StixObject } from './stix.js';

describe('STIX 2.1 bundle', () => {
  const bundle = buildStixBundle([...sampleItems(), invalidItem()], { bundleId: 'bundle--3f1c6d55-8f41-4c3b-9f5e-2a4d1e0a5b7c' });
  const byType = (type: string) => bundle.objects.filter((o) => o.type === type);

  it('gives every object the properties the spec requires, and refs that resolve', () => {
    expect(bundle.type).toBe('bundle');
    expect(stixProblems(bundle.objects)).toEqual([]);
  });

  it('has one SCO per observable, with the spec-deterministic id', () => {
    expect(byType('file')).toHaveLength(1);
    expect(byType('domain-name')).toHaveLength(1);
    expect(byType('ipv4-addr')).toHaveLength(1);
    expect(byType('url')).toHaveLength(1);
    // STIX 2.1 section 2.9: a v5 UUID over the canonical JSON of the contributing properties,
    // so every producer (stix2 for Python, OpenCTI) gives this observable the same id.
    expect(observableToSco({ type: 'ipv4', value: '198.51.100.3' }).id).toMatch(/^ipv4-addr--[0-9a-f]{8}-[0-9a-f]{4}-5/);
    expect(observableToSco({ type: 'ipv4', value: '198.51.100.3' }).id).toBe(observableToSco({ type: 'ipv4', value: '198.51.100.3' }).id);
    expect(observableToSco({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' })).toMatchObject({ type: 'file', hashes: { MD5: 'd41d8cd98f00b204e9800998ecf8427e' } });
  });

  it('indicates only malicious and suspicious observables, with a STIX pattern', () => {
    const indicators = byType('indicator');
    expect(indicators.map((i) => i.pattern).sort()).toEqual([
      "[domain-name:value = 'suspicious.example']",
      `[file:hashes.'SHA-256' = '${'a'.repeat(64)}']`,
      `[url:value = 'http://bad.example/it\\'s,"quoted"']`,
    ]);
    expect(indicators.find((i) => String(i.pattern).startsWith('[file'))).toMatchObject({ indicator_types: ['malicious-activity'], confidence: 85 });
    expect(indicators.find((i) => String(i.pattern).startsWith('[domain'))).toMatchObject({ indicator_types: ['anomalous-activity'], confidence: 15 });
  });

  it('turns ttp entities into malware and attack-pattern objects the indicator indicates', () => {
    expect(byType('malware')).toMatchObject([{ name: 'emotet', is_family: true }]);
    expect(byType('attack-pattern')).toMatchObject([{ name: 'Command and Scripting Interpreter', external_references: [{ source_name: 'mitre-attack', external_id: 'T1059' }] }]);
    const types = byType('relationship').map((r) => r.relationship_type).sort();
    expect(types).toEqual(['based-on', 'based-on', 'based-on', 'indicates', 'indicates']);
  });

  it('is deterministic: the same results give the same ids', () => {
    const again = buildStixBundle(sampleItems(), { bundleId: bundle.id });
    expect(again.objects.map((o) => o.id)).toEqual(bundle.objects.map((o) => o.id));
  });

  it('streams the same objects, each once, and closes validly', () => {
    const formatter = createStixFormatter({ bundleId: bundle.id });
    let text = formatter.start();
    for (const item of [...sampleItems(), ...sampleItems()]) text += formatter.item(item);
    text += formatter.end({ interrupted: false, invalidInputs: 0 });
    const streamed = JSON.parse(text);
    expect(streamed.objects.map((o: StixObject) => o.id).sort()).toEqual(bundle.objects.map((o) => o.id).sort());
  });

  it('escapes quotes and backslashes in patterns', () => {
    expect(stixPattern({ type: 'url', value: "http://x.example/a'b\\c" })).toBe("[url:value = 'http://x.example/a\\'b\\\\c']");
    expect(stixPattern({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' })).toBe("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
  });
});
