import { runProviderConformance, type ConformanceFault } from '@x/core/testing';
import { observableFor, startSimulator, type FaultsInput } from '@x/virustotal-simulator';
import plugin from '../src/index.js';

const API_KEY = 'conformance-v2-key-42';

const FAULTS: Record<ConformanceFault, FaultsInput> = {
  http_500: { errorRate: 1, errorStatuses: [500] },
  reset: { resetRate: 1 },
  garbage_json: { malformedRate: 1 },
  hang: { latencyMs: 60_000 },
};

runProviderConformance({
  plugin,
  validOptions: { apiKey: API_KEY },
  invalidOptions: [
    { options: {}, path: 'apiKey' },
    { options: { apiKey: API_KEY, lowConfidenceInfectionRateMax: 70 }, path: 'lowConfidenceInfectionRateMax' },
    { options: { apiKey: API_KEY, lowConfidenceInfectionRateMax: 70 }, path: 'highConfidenceInfectionRateMin' },
    { options: { apiKey: API_KEY, highConfidenceInfectionRateMin: 100 }, path: 'highConfidenceInfectionRateMin' },
    { options: { apiKey: API_KEY, batchSize: 26 }, path: 'batchSize' },
    { options: { apiKey: API_KEY, apiUrl: 'http://vt.example.com/vtapi/v2/' }, path: 'apiUrl' },
  ],
  observables: {
    // Hashes first: the engine batches the first four lookups, so the six cost 4 requests and fit
    // the public key's default 4 per minute.
    found: [
      observableFor({ type: 'md5', malicious: 65, total: 71 }),
      observableFor({ type: 'sha1' }),
      observableFor({ type: 'sha256', status: 'queued' }),
      observableFor({ type: 'domain', malicious: 40, total: 90 }),
      observableFor({ type: 'ipv4', malicious: 3, total: 70 }),
      observableFor({ type: 'url', malicious: 70, total: 90 }),
    ],
    notFound: [observableFor({ type: 'domain', status: 'not_found' }), observableFor({ type: 'sha256', status: 'not_found' })],
  },
  startUpstream: async () => {
    const sim = await startSimulator({ port: 0, apiKeys: [API_KEY] });
    return {
      options: { apiUrl: sim.v2Url },
      setFault: (fault) => void sim.setFaults(fault ? FAULTS[fault] : {}),
      close: () => sim.close(),
    };
  },
});
