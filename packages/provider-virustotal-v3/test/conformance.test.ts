import { runProviderConformance, type ConformanceFault } from '@x/core/testing';
import { outcomeObservables, startSimulator, type FaultsInput } from '@x/virustotal-simulator';
import plugin from '../src/plugin.js';

const API_KEY = 'conformance-v3-key-0123456789';

/** The kit's faults, as simulator fault settings. */
const FAULTS: Record<ConformanceFault, FaultsInput> = {
  http_500: { errorRate: 1, errorStatuses: [500] },
  reset: { resetRate: 1 },
  garbage_json: { malformedRate: 1 },
  hang: { latencyMs: 30_000 },
};

const domains = outcomeObservables('domain');
const files = outcomeObservables('sha256');

runProviderConformance({
  plugin,
  validOptions: { apiKey: API_KEY },
  invalidOptions: [
    { options: {}, path: 'apiKey' },
    { options: { apiKey: API_KEY, baseUrl: 'http://vt.example/api/v3' }, path: 'baseUrl' },
    { options: { apiKey: API_KEY, requestTimeout: 'soon' }, path: 'requestTimeout' },
    { options: { apiKey: API_KEY, maliceRules: [{ verdict: 'malicious', all: [{ field: 'positives', op: '>=', value: 5 }] }] }, path: 'maliceRules.0.all.0.field' },
  ],
  observables: {
    found: [{ type: 'domain', value: domains.malicious5! }, { type: 'sha256', value: files.clean! }, '198.18.0.94'],
    notFound: [{ type: 'domain', value: domains.notFound! }, { type: 'sha256', value: files.notFound! }],
  },
  instanceConfig: { rateLimit: false },
  async startUpstream() {
    const sim = await startSimulator({ port: 0, apiKeys: [API_KEY] });
    return {
      options: { baseUrl: sim.v3Url },
      setFault: (fault) => void sim.setFaults(fault === null ? {} : FAULTS[fault]),
      close: () => sim.close(),
    };
  },
});
