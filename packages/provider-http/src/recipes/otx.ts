/**
 * AlienVault OTX, `GET /api/v1/indicators/{section}/{value}/general`
 * (https://otx.alienvault.com/api): the key in `X-OTX-API-KEY`. The section names the type
 * (`IPv4`, `IPv6`, `domain`, `url`, `file`); `pulse_info.count` is how many community pulses
 * name the indicator, `validation` lists allow-list hits (a popular domain, a public resolver).
 */
const general = (section: string) => ({ steps: [{ name: 'general', path: `/indicators/${section}/{{value}}/general` }] });

export const otx = {
  name: 'AlienVault OTX',
  baseUrl: 'https://otx.alienvault.com/api/v1',
  docsUrl: 'https://otx.alienvault.com/api',
  auth: { type: 'header', name: 'X-OTX-API-KEY' },
  requests: {
    ipv4: general('IPv4'),
    ipv6: general('IPv6'),
    domain: general('domain'),
    url: general('url'),
    md5: general('file'),
    sha1: general('file'),
    sha256: general('file'),
  },
  fields: {
    pulseCount: { path: 'pulse_info.count', type: 'integer' },
    pulses: { path: 'pulse_info.pulses[:5].name', type: 'list' },
    malwareFamilies: { path: 'pulse_info.related.other.malware_families', type: 'list' },
    reputation: { path: 'reputation', type: 'number' },
    allowListed: { path: 'length(validation || `[]`)', type: 'integer' },
    countryCode: { path: 'country_code', type: 'string' },
    asn: { path: 'asn', type: 'string' },
  },
  rules: [
    { name: 'allow_listed', when: { field: 'allowListed', op: 'gt', value: 0 }, verdict: 'benign', confidence: 'medium', message: 'OTX allow-lists it ({{fields.allowListed}} validation hits)' },
    { name: 'pulse_count>=5', when: { field: 'pulseCount', op: 'gte', value: 5 }, verdict: 'malicious', confidence: 'medium', message: 'Named in {{fields.pulseCount}} OTX pulses' },
    { name: 'pulse_count>=1', when: { field: 'pulseCount', op: 'gte', value: 1 }, verdict: 'suspicious', confidence: 'low', message: 'Named in {{fields.pulseCount}} OTX pulse(s)' },
  ],
  otherwise: { verdict: 'unknown' },
  cacheTtl: { ipv4: '6h', ipv6: '6h', domain: '6h', url: '1h', md5: '24h', sha1: '24h', sha256: '24h' },
} as const;
