import { describe, expect, it } from 'vitest';
import { invalidItem, item, record, sampleItems, vt2 } from '../../test/helpers/items.js';
import { stixPatternProblems, stixSchemaErrors } from '../../test/helpers/official-validators.js';
import { stixProblems } from '../../test/helpers/stix.js';
import { buildStixBundle, createStixFormatter, observableToSco, stixPattern, ttpKind, type StixObject } from './stix.js';

describe('STIX 2.1 bundle', () => {
  const bundle = buildStixBundle([...sampleItems(), invalidItem()], { bundleId: 'bundle--3f1c6d55-8f41-4c3b-9f5e-2a4d1e0a5b7c' });
  const byType = (type: string) => bundle.objects.filter((o) => o.type === type);

  it('gives every object the properties the spec requires, and refs that resolve', () => {
    expect(bundle.type).toBe('bundle');
    expect(stixProblems(bundle.objects)).toEqual([]);
    expect(stixSchemaErrors(bundle)).toEqual([]);
    expect(stixPatternProblems(bundle.objects)).toEqual([]);
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
      "[url:value = 'http://bad.example/it\\'s,%22quoted%22']",
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
    text += formatter.end({ interrupted: false, complete: true, invalidInputs: 0 });
    const streamed = JSON.parse(text);
    expect(streamed.objects.map((o: StixObject) => o.id).sort()).toEqual(bundle.objects.map((o) => o.id).sort());
  });

  it('escapes quotes and backslashes in patterns (a URL\'s backslash is percent-encoded first)', () => {
    expect(stixPattern({ type: 'url', value: "http://x.example/a'b\\c" })).toBe("[url:value = 'http://x.example/a\\'b%5Cc']");
    expect(stixPattern({ type: 'domain', value: "it's\\odd.example" })).toBe("[domain-name:value = 'it\\'s\\\\odd.example']");
    expect(stixPattern({ type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' })).toBe("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
  });
});

describe('STIX for VirusTotal threat names, categories and detection labels', () => {
  // Shaped as the providers produce them (packages/provider-virustotal-v{2,3}/src/mapping.ts).
  const file = { type: 'sha256' as const, value: 'b'.repeat(64) };
  const v3Entities = [
    { type: 'ttp', name: 'qakbot', category: 'threat_name', count: 25 },
    { type: 'ttp', name: 'downloader', category: 'threat_category', count: 31 },
    { type: 'ttp', name: 'spyware', category: 'threat_category', count: 6 },
  ];
  const v2Entities = [
    { type: 'ttp', name: 'Unsafe', engines: ['AVG', 'Avast-Mobile'], engineCount: 2 },
    { type: 'ttp', name: 'malicious (high confidence)', engines: ['Sophos'], engineCount: 1 },
    { type: 'ttp', name: 'W32.AIDetectMalware', engines: ['Paloalto'], engineCount: 1 },
  ];
  const malicious = item([
    record({ observable: file, verdict: 'malicious', confidence: 'high', entities: v3Entities }),
    record({ observable: file, provider: vt2, verdict: 'malicious', confidence: 'high', entities: v2Entities }),
  ]);
  const bundle = buildStixBundle([malicious], { bundleId: 'bundle--3f1c6d55-8f41-4c3b-9f5e-2a4d1e0a5b7c' });
  const byType = (type: string) => bundle.objects.filter((o) => o.type === type);
  const fileId = byType('file')[0]!.id;
  const indicatorId = byType('indicator')[0]!.id;

  it('classifies each kind of ttp entity', () => {
    expect([...v3Entities, ...v2Entities, { type: 'ttp', name: 'emotet' }, { type: 'ttp', name: 'x', mitreId: 'T1059' }].map(ttpKind)).toEqual([
      'family',
      'category',
      'category',
      'detection',
      'detection',
      'detection',
      'family',
      'attack-pattern',
    ]);
  });

  it('meets the spec, with refs that resolve', () => {
    expect(stixProblems(bundle.objects)).toEqual([]);
    expect(stixSchemaErrors(bundle)).toEqual([]);
  });

  it('makes only v3 popular threat names malware families', () => {
    const families = byType('malware').filter((o) => o.is_family === true);
    expect(families.map((o) => o.name)).toEqual(['qakbot']);
  });

  it('types the sample by its v3 threat categories: one malware instance (not a family) of this file', () => {
    const instances = byType('malware').filter((o) => o.is_family === false);
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({ name: file.value, malware_types: ['downloader', 'spyware'], sample_refs: [fileId] });
    const indicates = byType('relationship').filter((r) => r.relationship_type === 'indicates').map((r) => [r.source_ref, r.target_ref]);
    expect(indicates).toEqual(expect.arrayContaining([[indicatorId, instances[0]!.id]]));
  });

  it('keeps v2 per-engine detection labels as a note on the file and indicator, never as malware', () => {
    const names = bundle.objects.map((o) => o.name);
    for (const label of ['Unsafe', 'malicious (high confidence)', 'W32.AIDetectMalware', 'downloader', 'spyware']) expect(names).not.toContain(label);
    const notes = byType('note');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ object_refs: [fileId, indicatorId], abstract: 'vt2: 3 detection names from antivirus engines' });
    expect(notes[0]!.content).toContain('- Unsafe (2 engines: AVG, Avast-Mobile)');
    expect(notes[0]!.content).toContain('- malicious (high confidence) (1 engine: Sophos)');
  });

  it('relates them to the observable when there is no indicator, and is deterministic', () => {
    const benign = item([record({ observable: file, provider: vt2, entities: v2Entities.slice(0, 1) }), record({ observable: file, entities: v3Entities.slice(1, 2) })]);
    const objects = buildStixBundle([benign]).objects;
    expect(stixProblems(objects)).toEqual([]);
    expect(objects.find((o) => o.type === 'note')).toMatchObject({ object_refs: [fileId] });
    const instance = objects.find((o) => o.type === 'malware')!;
    expect(objects.find((o) => o.type === 'relationship')).toMatchObject({ relationship_type: 'related-to', source_ref: instance.id, target_ref: fileId });
    expect(buildStixBundle([malicious]).objects.map((o) => o.id)).toEqual(bundle.objects.map((o) => o.id));
  });
});

describe('STIX for related objects (VirusTotal v3 relationships)', () => {
  // Shaped as provider-virustotal-v3 produces them (packages/provider-virustotal-v3/src/depth.ts relatedEntities).
  const file = { type: 'sha256' as const, value: 'c'.repeat(64) };
  const related = (relationship: string, objectType: string, id: string, observable?: { type: string; value: string }) => ({
    type: 'related',
    name: `${relationship}: ${observable?.value ?? id}`,
    relationship,
    objectType,
    id,
    source: 'virustotal',
    from: file,
    ...(observable ? { observable } : {}),
  });
  const entities = [
    related('contacted_domains', 'domain', 'cdn.example.net', { type: 'domain', value: 'cdn.example.net' }),
    related('contacted_ips', 'ip_address', '45.1.2.3', { type: 'ipv4', value: '45.1.2.3' }),
    related('itw_domains', 'domain', 'cdn.example.net', { type: 'domain', value: 'cdn.example.net' }),
    // A URL known only by its SHA-256 id has no observable: no SCO for it.
    related('contacted_urls', 'url', 'd'.repeat(64)),
  ];
  const bundle = buildStixBundle([item([record({ observable: file, verdict: 'malicious', entities })])], { bundleId: 'bundle--3f1c6d55-8f41-4c3b-9f5e-2a4d1e0a5b7c' });
  const fileId = observableToSco(file).id;

  it('gives each related observable its SCO and a related-to relationship naming the VirusTotal relationship', () => {
    expect(stixProblems(bundle.objects)).toEqual([]);
    const domain = observableToSco({ type: 'domain', value: 'cdn.example.net' });
    const ip = observableToSco({ type: 'ipv4', value: '45.1.2.3' });
    expect(bundle.objects.filter((o) => o.id === domain.id)).toHaveLength(1);
    expect(bundle.objects.filter((o) => o.id === ip.id)).toHaveLength(1);
    const relatedTo = bundle.objects.filter((o) => o.type === 'relationship' && o.relationship_type === 'related-to');
    expect(relatedTo.map((r) => [r.source_ref, r.target_ref, r.description])).toEqual([
      [fileId, domain.id, 'vt3: contacted_domains (virustotal relationship)'],
      [fileId, ip.id, 'vt3: contacted_ips (virustotal relationship)'],
      [fileId, domain.id, 'vt3: itw_domains (virustotal relationship)'],
    ]);
    expect(bundle.objects.some((o) => o.type === 'url')).toBe(false);
  });
});
