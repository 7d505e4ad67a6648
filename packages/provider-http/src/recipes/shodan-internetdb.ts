/**
 * Shodan InternetDB, `GET /{ip}` (https://internetdb.shodan.io/): free, no key; open ports,
 * CPEs, hostnames, tags and known vulnerabilities of an IP from Shodan's weekly scans. An
 * address it has nothing on answers 404 `{ "detail": "No information available" }`.
 */
export const shodanInternetdb = {
  name: 'Shodan InternetDB',
  baseUrl: 'https://internetdb.shodan.io',
  docsUrl: 'https://internetdb.shodan.io/',
  requests: { ipv4: { steps: [{ name: 'host', path: '/{{value}}' }] } },
  fields: {
    ports: { path: 'ports', type: 'list' },
    hostnames: { path: 'hostnames', type: 'list' },
    cpes: { path: 'cpes', type: 'list' },
    tags: { path: 'tags', type: 'list' },
    vulns: { path: 'vulns', type: 'list' },
    vulnCount: { path: 'length(vulns || `[]`)', type: 'integer', internal: true },
  },
  notFound: { statuses: [404] },
  rules: [
    { name: 'tag=malware', when: { field: 'tags', op: 'contains', value: 'malware' }, verdict: 'malicious', confidence: 'medium', message: 'Shodan tags it as malware infrastructure' },
    { name: 'tag=compromised', when: { any: [{ field: 'tags', op: 'contains', value: 'compromised' }, { field: 'tags', op: 'contains', value: 'c2' }] }, verdict: 'malicious', confidence: 'medium', message: 'Shodan tags it compromised or C2' },
    { name: 'vulns>0', when: { field: 'vulnCount', op: 'gt', value: 0 }, verdict: 'suspicious', confidence: 'low', message: '{{fields.vulnCount}} known vulnerabilities exposed' },
  ],
  otherwise: { verdict: 'unknown' },
  cacheTtl: { ipv4: '24h' },
} as const;
