/**
 * URLhaus (abuse.ch), `POST /v1/host/` and `POST /v1/url/` (https://urlhaus-api.abuse.ch/):
 * the key in the `Auth-Key` header, the observable as a form field. `query_status` is `ok`,
 * `no_results` or `invalid_host` / `invalid_url`; a host answer lists its URLs with their
 * `url_status` (online / offline), a URL answer carries its own status, threat and tags.
 * Counts come as text (`"url_count": "4"`): the integer type reads them.
 */
const host = { steps: [{ name: 'host', method: 'POST', path: '/host/', form: { host: '{{value}}' } }] } as const;

export const urlhaus = {
  name: 'URLhaus',
  baseUrl: 'https://urlhaus-api.abuse.ch/v1',
  docsUrl: 'https://urlhaus-api.abuse.ch/',
  auth: { type: 'header', name: 'Auth-Key' },
  requests: {
    domain: host,
    ipv4: host,
    url: { steps: [{ name: 'url', method: 'POST', path: '/url/', form: { url: '{{value}}' } }] },
  },
  fields: {
    queryStatus: { path: 'query_status', type: 'string' },
    reference: { path: 'urlhaus_reference', type: 'string' },
    urlCount: { path: 'url_count', type: 'integer' },
    onlineUrls: { path: "length(urls[?url_status=='online'] || `[]`)", type: 'integer' },
    firstSeen: { path: 'firstseen || date_added', type: 'date' },
    urlStatus: { path: 'url_status', type: 'string' },
    threat: { path: 'threat', type: 'string' },
    tags: { path: 'tags', type: 'list' },
    spamhausDbl: { path: 'blacklists.spamhaus_dbl', type: 'string' },
    surbl: { path: 'blacklists.surbl', type: 'string' },
  },
  notFound: { statuses: [404], when: { field: 'queryStatus', op: 'in', value: ['no_results', 'invalid_host', 'invalid_url'] } },
  rules: [
    { name: 'url_status=online', when: { field: 'urlStatus', op: 'eq', value: 'online' }, verdict: 'malicious', confidence: 'high', message: 'URLhaus: online malware distribution ({{fields.threat}})' },
    { name: 'online_urls>0', when: { field: 'onlineUrls', op: 'gt', value: 0 }, verdict: 'malicious', confidence: 'high', message: 'URLhaus: {{fields.onlineUrls}} of {{fields.urlCount}} malware URLs on this host are online' },
    { name: 'listed', when: { field: 'queryStatus', op: 'eq', value: 'ok' }, verdict: 'suspicious', confidence: 'medium', message: 'URLhaus has seen malware distributed here (now offline)' },
  ],
  otherwise: { verdict: 'unknown' },
  cacheTtl: { domain: '1h', ipv4: '1h', url: '30m' },
} as const;
