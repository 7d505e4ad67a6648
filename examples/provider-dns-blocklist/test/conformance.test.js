// Core's conformance kit: manifest and lifecycle shape, options accepted and rejected, record
// shape, abort, no secret in logs or records. No upstream to break: the fault tests are skipped.
import { runProviderConformance } from '@x/core/testing';
import plugin from '../index.js';

runProviderConformance({
  plugin,
  validOptions: { listName: 'conformance list', malicious: ['evil.example'], suspicious: ['203.0.113.7'] },
  invalidOptions: [
    { options: { malicious: 'evil.example' }, path: 'malicious' },
    { options: { listName: '' }, path: 'listName' },
  ],
  observables: { found: ['evil.example', 'sub.evil.example', '203.0.113.7'], notFound: ['example.org'] },
});
