/**
 * GreyNoise Community API, `GET /v3/community/{ip}` (https://docs.greynoise.io/reference/get_v3-community-ip):
 * the key in the `key` header; `{ ip, noise, riot, classification, name, link, last_seen, message }`.
 * An address GreyNoise has not seen scanning and that is not a known business service answers
 * 404 with the same shape and `noise: false, riot: false`. IPv4 only.
 */
export const greynoise = {
  name: 'GreyNoise Community',
  baseUrl: 'https://api.greynoise.io/v3/community',
  docsUrl: 'https://docs.greynoise.io/reference/get_v3-community-ip',
  auth: { type: 'header', name: 'key' },
  requests: { ipv4: { steps: [{ name: 'community', path: '/{{value}}' }] } },
  fields: {
    noise: { path: 'noise', type: 'boolean' },
    riot: { path: 'riot', type: 'boolean' },
    classification: { path: 'classification', type: 'string' },
    actor: { path: 'name', type: 'string' },
    link: { path: 'link', type: 'string' },
    lastSeen: { path: 'last_seen', type: 'date' },
  },
  notFound: { statuses: [404] },
  rules: [
    { name: 'classification=malicious', when: { field: 'classification', op: 'eq', value: 'malicious' }, verdict: 'malicious', confidence: 'high', message: 'GreyNoise classifies {{value}} as malicious ({{fields.actor}})' },
    { name: 'riot', when: { field: 'riot', op: 'eq', value: true }, verdict: 'benign', confidence: 'high', message: 'A common business service ({{fields.actor}}) in GreyNoise RIOT' },
    { name: 'classification=benign', when: { field: 'classification', op: 'eq', value: 'benign' }, verdict: 'benign', confidence: 'medium', message: 'GreyNoise classifies {{value}} as benign ({{fields.actor}})' },
    { name: 'noise', when: { field: 'noise', op: 'eq', value: true }, verdict: 'suspicious', confidence: 'low', message: 'Seen scanning the internet, intent unknown' },
  ],
  otherwise: { verdict: 'unknown' },
  cacheTtl: { ipv4: '6h' },
} as const;
