// Extracted groups are untyped JSON: tests assert their shape field by field.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Observable, ProviderOutcome } from '@x/core';
import { describe, expect, it } from 'vitest';
import { attributesOf, fixtureNames, loadFixture } from '../test/load-fixture.js';
import { EXTRACT_GROUPS, yaraRulesetIds } from './depth.js';
import { DEFAULT_MALICE_RULES, GTI_PREFERRED_MALICE_RULES } from './malice-rules.js';
import { extractFields, mapV3Object, parseV3Object, type DepthMapping } from './mapping.js';

type Found = Extract<ProviderOutcome, { kind: 'found' }>;

function found(outcome: ProviderOutcome): Found {
  if (outcome.kind !== 'found') throw new Error(`expected found, got ${outcome.kind}`);
  return outcome;
}

const fileObservable = (name: string): Observable => ({ type: 'sha256', value: attributesOf(loadFixture(name)).id });
const map = (name: string, depth: DepthMapping = {}, rules = DEFAULT_MALICE_RULES) => found(mapV3Object(fileObservable(name), loadFixture(name), rules, depth));

/** A licensed capture with a gti_assessment added in code (the captures that carry one have no open licence). */
function withGti(name: string, verdict: string, threatScore: number, severity: string): Record<string, unknown> {
  const body = structuredClone(loadFixture(name));
  attributesOf(body).attributes.gti_assessment = { verdict: { value: verdict }, threat_score: { value: threatScore }, severity: { value: severity }, description: 'Added by the test.' };
  return body;
}

describe('default options keep the seed mapping', () => {
  it.each(fixtureNames('file_').concat(fixtureNames('domain_'), fixtureNames('ip_address_')))('%s: extracted holds exactly the default fields', (name) => {
    const capture = loadFixture(name);
    const object = attributesOf(capture);
    const type = ({ ip_address: 'ipv4', domain: 'domain', file: 'sha256' } as const)[object.type as 'file'];
    const observable: Observable = { type, value: object.id };
    const outcome = mapV3Object(observable, capture, DEFAULT_MALICE_RULES);
    if (outcome.kind !== 'found') return;
    expect(outcome.extracted).toEqual(extractFields(observable, parseV3Object(capture, object.type as 'file')));
    expect(outcome.entities.some((entity) => entity.type === 'related')).toBe(false);
  });
});

describe('extract groups on real captures', () => {
  it('crowdsourced: IDS counts by severity and rule names; rule text only with ruleText', () => {
    const capture = attributesOf(loadFixture('file_2520524c_network_capture_clean')).attributes;
    const plain = map('file_2520524c_network_capture_clean', { extract: ['crowdsourced'] }).extracted.crowdsourced as Record<string, any>;
    expect(plain.ids.counts).toEqual({ high: 47, medium: 2, low: 37, info: 4 });
    expect(plain.ids.rules).toHaveLength(90);
    expect(plain.ids.rules[0]).toEqual({ rule_msg: capture.crowdsourced_ids_results[0].rule_msg, severity: 'high', source: 'Snort registered user ruleset', rule_id: '1:1394' });
    expect(plain.yara.count).toBe(3);
    expect(plain.yara.rules[0]).toMatchObject({ rule_name: 'Windows_API_Function', ruleset_id: '0122a7f913', source: 'https://github.com/InQuest/yara-rules-vt', author: 'InQuest Labs' });
    expect(plain.sigma).toBeNull();
    expect(JSON.stringify(plain)).not.toContain('rule_raw');
    const withText = map('file_2520524c_network_capture_clean', { extract: ['crowdsourced'], ruleText: true }).extracted.crowdsourced as Record<string, any>;
    expect(withText.ids.rules[0].rule_raw).toBe(capture.crowdsourced_ids_results[0].rule_raw);
  });

  it('yaraRulesets: each matched ruleset once, in match order, up to the limit; fetched text lands in yara.rulesets', () => {
    const crowdsourced = map('file_2520524c_network_capture_clean', { extract: ['crowdsourced'] }).extracted.crowdsourced;
    expect(yaraRulesetIds(crowdsourced, 5)).toEqual(['0122a7f913', '0121ae37cc', '0122bae1e9']);
    expect(yaraRulesetIds(crowdsourced, 2)).toEqual(['0122a7f913', '0121ae37cc']);
    expect(yaraRulesetIds(crowdsourced, 0)).toEqual([]);
    expect(yaraRulesetIds(undefined, 5)).toEqual([]);
    expect(yaraRulesetIds({ yara: { rules: [{ ruleset_id: 'a' }, { ruleset_id: 'a' }, { ruleset_id: null }, { ruleset_id: 'b' }] } }, 5)).toEqual(['a', 'b']);
    const ruleset = { data: { type: 'yara_ruleset', id: '0122a7f913', attributes: { name: 'Windows_API_Function', rules: 'rule Windows_API_Function { condition: true }' } } };
    const yara = (map('file_2520524c_network_capture_clean', { extract: ['crowdsourced'], yaraRulesetBodies: { '0122a7f913': ruleset, '0121ae37cc': null } }).extracted.crowdsourced as Record<string, any>).yara;
    expect(yara.rulesets).toEqual({ '0122a7f913': { name: 'Windows_API_Function', text: 'rule Windows_API_Function { condition: true }' }, '0121ae37cc': null });
    expect(yara.rules).toHaveLength(3);
  });

  it('crowdsourced Sigma, sandboxes, names and fuzzy hashes from a PowerShell capture', () => {
    const a = attributesOf(loadFixture('file_020876e6_powershell_malicious6')).attributes;
    const extracted = map('file_020876e6_powershell_malicious6', { extract: ['crowdsourced', 'sandboxes', 'names', 'hashes', 'file_type', 'severity', 'votes'] }).extracted as Record<string, any>;
    expect(extracted.crowdsourced.sigma.counts).toEqual(a.sigma_analysis_stats);
    expect(extracted.crowdsourced.sigma.rules[0]).toMatchObject({ title: a.sigma_analysis_results[0].rule_title, level: a.sigma_analysis_results[0].rule_level });
    expect(extracted.sandbox_verdicts).toEqual([
      { sandbox: 'Zenbox', category: 'malicious', confidence: 68, classification: ['MALWARE', 'EVADER'], malware_names: [] },
      { sandbox: 'C2AE', category: 'malicious', confidence: 50, classification: ['MALWARE'], malware_names: ['Powershell_Downloader', 'Powershell_Agent', 'XLS_Downloader'] },
    ]);
    expect(extracted.names).toEqual(a.names);
    expect(extracted.meaningful_name).toBe('winutil   CHRIS TITUS.ps1');
    expect(extracted.fuzzy_hashes).toEqual({ ssdeep: a.ssdeep, tlsh: a.tlsh, vhash: a.vhash, imphash: null, authentihash: null });
    expect(extracted.file_type).toEqual({ type_tags: ['source', 'powershell', 'ps', 'ps1'], magic: a.magic, magika: 'POWERSHELL', trid: a.trid });
    expect(extracted.threat_severity).toEqual({ level: 'SEVERITY_MEDIUM', description: a.threat_severity.level_description });
    expect(extracted.votes).toEqual({ harmless: 0, malicious: 1 });
    // Seed fields keep their exact names and values.
    expect(extracted.malicious_count).toBe(6);
    expect(extracted.popular_threat_name).toBe(map('file_020876e6_powershell_malicious6').extracted.popular_threat_name);
  });

  it('signature info and imphash from a signed DLL', () => {
    const a = attributesOf(loadFixture('file_29bd5781_win32_dll_clean')).attributes;
    const extracted = map('file_29bd5781_win32_dll_clean', { extract: ['signature', 'hashes'] }).extracted as Record<string, any>;
    expect(extracted.signature_info).toEqual(a.signature_info);
    expect(extracted.fuzzy_hashes.imphash).toBe('4f33ea844b96a31c8f4690530ba63854');
  });

  it('domains: DNS records, certificate and (only when asked) whois', () => {
    const capture = loadFixture('domain_virustotal.com_benign');
    const a = attributesOf(capture).attributes;
    const observable: Observable = { type: 'domain', value: 'virustotal.com' };
    const extracted = found(mapV3Object(observable, capture, DEFAULT_MALICE_RULES, { extract: ['dns', 'certificate', 'crowdsourced'] })).extracted as Record<string, any>;
    expect(extracted.last_dns_records).toEqual(a.last_dns_records);
    expect(extracted.https_certificate.subject).toEqual(a.last_https_certificate.subject);
    expect(extracted).not.toHaveProperty('whois');
    // File-only groups do not appear on a domain.
    expect(extracted).not.toHaveProperty('crowdsourced');
    const withWhois = found(mapV3Object(observable, capture, DEFAULT_MALICE_RULES, { extract: ['whois'] })).extracted;
    expect(withWhois.whois).toBe(a.whois);
  });

  it('every group is documented and each adds only its own keys', () => {
    const all = map('file_020876e6_powershell_malicious6', { extract: [...EXTRACT_GROUPS] }).extracted;
    const base = map('file_020876e6_powershell_malicious6').extracted;
    const added = Object.keys(all).filter((key) => !(key in base));
    expect(added.sort()).toEqual(['crowdsourced', 'fuzzy_hashes', 'file_type', 'gti', 'meaningful_name', 'names', 'sandbox_verdicts', 'signature_info', 'threat_severity', 'votes'].sort());
  });
});

describe('rules over the new facts', () => {
  it('gti-preferred follows GTI over the engine count, both ways', () => {
    // 40 engines flag this file; GTI (added in code) calls it benign: GTI decides.
    const benign = withGti('file_object_malicious_pe_03bd9a94', 'VERDICT_BENIGN', 0, 'SEVERITY_NONE');
    const observable = fileObservable('file_object_malicious_pe_03bd9a94');
    expect(found(mapV3Object(observable, benign, DEFAULT_MALICE_RULES)).verdict).toBe('malicious');
    const byGti = found(mapV3Object(observable, benign, GTI_PREFERRED_MALICE_RULES));
    expect(byGti).toMatchObject({ verdict: 'benign', confidence: 'high' });
    expect(byGti.reasons[0]).toMatchObject({ rule: 'gti_benign', values: { gti_verdict: 'VERDICT_BENIGN' } });
    // The note does not hide that engines disagreed.
    expect(byGti.reasons[1]).toMatchObject({ rule: 'clean_note', values: { flagged: 40 } });
    // A clean ELF that GTI calls malicious with a threat score of 80.
    const malicious = withGti('file_f36005f6_elf_clean', 'VERDICT_MALICIOUS', 80, 'SEVERITY_HIGH');
    const elf = fileObservable('file_f36005f6_elf_clean');
    expect(found(mapV3Object(elf, malicious, GTI_PREFERRED_MALICE_RULES))).toMatchObject({ verdict: 'malicious', confidence: 'high', reasons: [{ rule: 'gti_malicious' }] });
    expect(found(mapV3Object(elf, malicious, GTI_PREFERRED_MALICE_RULES, { extract: ['gti'] })).extracted.gti).toEqual({ verdict: 'VERDICT_MALICIOUS', threat_score: 80, severity: 'SEVERITY_HIGH', description: 'Added by the test.' });
  });

  it('without GTI, gti-preferred falls back to counts, then to sandbox and IDS evidence', () => {
    // No engine flags this capture, but 47 high-severity IDS alerts fired in its traffic.
    const pcap = map('file_2520524c_network_capture_clean', {}, GTI_PREFERRED_MALICE_RULES);
    expect(pcap).toMatchObject({ verdict: 'suspicious', confidence: 'low', reasons: [{ rule: 'sandbox_or_ids', values: { ids_high_count: 47 } }] });
    expect(map('file_2520524c_network_capture_clean').verdict).toBe('benign');
    expect(map('file_c36b147f_win32_exe_malicious64', {}, GTI_PREFERRED_MALICE_RULES).reasons[0]!.rule).toBe('malicious_count>=5');
  });

  it('a custom rule can read a sandbox verdict and Sigma counts', () => {
    const rules = [
      { name: 'sandbox', verdict: 'malicious' as const, all: [{ field: 'sandbox_categories', op: 'contains' as const, value: 'malicious' }, { field: 'sigma_high_count', op: '>=' as const, value: 3 }] },
      { verdict: 'benign' as const },
    ];
    expect(map('file_020876e6_powershell_malicious6', {}, rules).reasons[0]).toMatchObject({ rule: 'sandbox', values: { sandbox_categories: ['malicious', 'malicious'], sigma_high_count: 3 } });
  });
});

describe('clean results say how many engines saw them', () => {
  it('names the engines that analysed it and found nothing, and those that could not', () => {
    const a = attributesOf(loadFixture('file_f36005f6_elf_clean')).attributes;
    const outcome = map('file_f36005f6_elf_clean');
    expect(outcome.verdict).toBe('benign');
    expect(outcome.reasons[1]).toEqual({
      rule: 'clean_note',
      message: `68 of the 68 engines that analysed it on ${new Date(a.last_analysis_date * 1000).toISOString().slice(0, 10)} found nothing (0 harmless, 68 undetected); 11 more could not analyse it (unsupported type, timeout or failure).`,
      values: { engines_analysed: 68, engines_found_nothing: 68, harmless: 0, undetected: 68, flagged: 0, not_analysed: 11, last_analysis_date: new Date(a.last_analysis_date * 1000).toISOString() },
    });
    expect(map('file_c36b147f_win32_exe_malicious64').reasons.map((reason) => reason.rule)).not.toContain('clean_note');
  });
});

describe('relationships', () => {
  it('descriptors from ?relationships= become extracted.relationships and related entities', () => {
    const capture = loadFixture('domain_with_relationships_redacted');
    const observable: Observable = { type: 'domain', value: 'down.mykings.pw' };
    const outcome = found(mapV3Object(observable, capture, DEFAULT_MALICE_RULES, { relationships: true }));
    expect(outcome.extracted.relationships).toEqual({
      siblings: [
        { type: 'domain', id: 'test1.pw', observable: { type: 'domain', value: 'test1.pw' } },
        { type: 'domain', id: 'test2.pw', observable: { type: 'domain', value: 'test2.pw' } },
      ],
      subdomains: [{ type: 'domain', id: 'test3.pw', observable: { type: 'domain', value: 'test3.pw' } }],
    });
    const related = outcome.entities.filter((entity) => entity.type === 'related');
    expect(related[0]).toEqual({
      type: 'related',
      name: 'siblings: test1.pw',
      relationship: 'siblings',
      objectType: 'domain',
      id: 'test1.pw',
      source: 'virustotal',
      from: observable,
      observable: { type: 'domain', value: 'test1.pw' },
    });
    expect(related).toHaveLength(3);
  });

  it('a fetched collection (real resolutions page) gives the other end of each resolution', () => {
    const collection = loadFixture('collection_domain_resolutions_gist.github.com_count_cursor') as { data: Array<{ attributes: { ip_address: string } }> };
    const observable: Observable = { type: 'domain', value: 'gist.github.com' };
    const outcome = found(mapV3Object(observable, loadFixture('domain_gist.github.com_benign'), DEFAULT_MALICE_RULES, { relatedBodies: { resolutions: collection } }));
    const refs = (outcome.extracted.relationships as Record<string, Array<Record<string, unknown>>>).resolutions!;
    expect(refs).toHaveLength(10);
    expect(refs[0]).toEqual({ type: 'resolution', id: `${collection.data[0]!.attributes.ip_address}gist.github.com`, observable: { type: 'ipv4', value: collection.data[0]!.attributes.ip_address }, malicious_count: null });
  });
});

describe('the extra attributes are read only when needed', () => {
  it('a wrong-typed extra field fails a lookup that reads it, not one that does not', () => {
    const body = structuredClone(loadFixture('file_f36005f6_elf_clean'));
    attributesOf(body).attributes.sandbox_verdicts = 'not an object';
    const observable = fileObservable('file_f36005f6_elf_clean');
    expect(found(mapV3Object(observable, body, DEFAULT_MALICE_RULES)).verdict).toBe('benign');
    expect(() => mapV3Object(observable, body, DEFAULT_MALICE_RULES, { extract: ['sandboxes'] })).toThrow(/not a file object \(attributes\.sandbox_verdicts: /);
    expect(() => mapV3Object(observable, body, GTI_PREFERRED_MALICE_RULES)).toThrow(/attributes\.sandbox_verdicts/);
  });
});
