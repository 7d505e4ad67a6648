/**
 * ThreatFox (abuse.ch), `POST /api/v1/` with `{ "query": "search_ioc", "search_term": … }`
 * (https://threatfox.abuse.ch/api/): the key in the `Auth-Key` header. `query_status` is `ok`
 * with `data: [{ ioc, threat_type, malware_printable, confidence_level, first_seen, tags, … }]`,
 * or `no_result` with `data` a sentence. Takes IPs, domains, URLs and hashes.
 */
const search = { steps: [{ name: 'search', method: 'POST', path: '/', json: { query: 'search_ioc', search_term: '{{value}}' } }] } as const;

export const threatfox = {
  name: 'ThreatFox',
  baseUrl: 'https://threatfox-api.abuse.ch/api/v1',
  docsUrl: 'https://threatfox.abuse.ch/api/',
  auth: { type: 'header', name: 'Auth-Key' },
  requests: { ipv4: search, domain: search, url: search, md5: search, sha1: search, sha256: search },
  fields: {
    queryStatus: { path: 'query_status', type: 'string' },
    malware: { path: 'data[0].malware_printable', type: 'string' },
    threatType: { path: 'data[0].threat_type', type: 'string' },
    confidenceLevel: { path: 'max(data[].confidence_level)', type: 'integer' },
    firstSeen: { path: 'data[0].first_seen', type: 'date' },
    lastSeen: { path: 'data[0].last_seen', type: 'date' },
    tags: { path: 'data[0].tags', type: 'list' },
    reference: { path: 'data[0].reference', type: 'string' },
  },
  notFound: { statuses: [404], when: { field: 'queryStatus', op: 'in', value: ['no_result', 'illegal_search_term'] } },
  rules: [
    { name: 'confidence_level>=75', when: { field: 'confidenceLevel', op: 'gte', value: 75 }, verdict: 'malicious', confidence: 'high', message: 'ThreatFox: {{fields.malware}} ({{fields.threatType}}), confidence {{fields.confidenceLevel}}%' },
    { name: 'listed', when: { field: 'queryStatus', op: 'eq', value: 'ok' }, verdict: 'malicious', confidence: 'medium', message: 'ThreatFox: {{fields.malware}} ({{fields.threatType}}), confidence {{fields.confidenceLevel}}%' },
  ],
  otherwise: { verdict: 'unknown' },
  cacheTtl: { ipv4: '1h', domain: '1h', url: '1h', md5: '24h', sha1: '24h', sha256: '24h' },
} as const;
