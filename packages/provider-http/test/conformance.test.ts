import { runProviderConformance } from '@x/core/testing';
import plugin from '../src/plugin.js';
import { KEYS, MALICIOUS_IP, UNKNOWN_IP, startFakeSources } from './fake-sources.js';

// The conformance kit, once per shipped recipe, against the fake sources (faults included).
const cases: Array<{ recipe: string; found: string[]; notFound: string[] }> = [
  { recipe: 'abuseipdb', found: [MALICIOUS_IP], notFound: [] },
  { recipe: 'greynoise', found: [MALICIOUS_IP], notFound: [UNKNOWN_IP] },
  { recipe: 'urlhaus', found: ['evil.example', 'http://evil.example/bin/1.exe'], notFound: ['clean.example'] },
  { recipe: 'threatfox', found: ['evil.example'], notFound: ['clean.example'] },
  { recipe: 'otx', found: [MALICIOUS_IP, 'evil.example'], notFound: [] },
  { recipe: 'shodan-internetdb', found: [MALICIOUS_IP], notFound: [UNKNOWN_IP] },
];

for (const { recipe, found, notFound } of cases) {
  const key = (KEYS as Record<string, string | undefined>)[recipe];
  runProviderConformance({
    plugin: { ...plugin, manifest: { ...plugin.manifest, id: `http-${recipe}` } },
    validOptions: { recipe, ...(key ? { apiKey: key } : {}) },
    invalidOptions: [
      { options: { recipe, apiKey: 'k', baseUrl: 'http://intel.example/api' }, path: 'baseUrl' },
      { options: { recipe, apiKey: 'k', rules: [{ when: { field: 'nope', op: 'eq', value: 1 }, verdict: 'malicious' }] }, path: 'rules.0.when' },
    ],
    observables: { found, notFound },
    instanceConfig: { rateLimit: false },
    async startUpstream() {
      const sources = await startFakeSources();
      return { options: { baseUrl: sources.url(recipe) }, setFault: (fault) => sources.setFault(fault), close: () => sources.close() };
    },
  });
}
