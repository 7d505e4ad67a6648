/**
 * AbuseIPDB, `GET /api/v2/check` (https://docs.abuseipdb.com/#check-endpoint): the key in the
 * `Key` header; `{ data: { abuseConfidenceScore, totalReports, countryCode, isp, … } }`. Every
 * public address has an answer (a score of 0 when nobody reported it); a private or malformed
 * address is a 422 with `{ errors: [{ detail, status }] }`. Free tier: 1,000 checks a day.
 */
export const abuseipdb = {
  name: 'AbuseIPDB',
  baseUrl: 'https://api.abuseipdb.com/api/v2',
  docsUrl: 'https://docs.abuseipdb.com/#check-endpoint',
  auth: { type: 'header', name: 'Key' },
  requests: {
    ipv4: { steps: [{ name: 'check', path: '/check', query: { ipAddress: '{{value}}', maxAgeInDays: '90' } }] },
    ipv6: { steps: [{ name: 'check', path: '/check', query: { ipAddress: '{{value}}', maxAgeInDays: '90' } }] },
  },
  fields: {
    abuseConfidenceScore: { path: 'data.abuseConfidenceScore', type: 'integer' },
    totalReports: { path: 'data.totalReports', type: 'integer' },
    numDistinctUsers: { path: 'data.numDistinctUsers', type: 'integer' },
    countryCode: { path: 'data.countryCode', type: 'string' },
    usageType: { path: 'data.usageType', type: 'string' },
    isp: { path: 'data.isp', type: 'string' },
    domain: { path: 'data.domain', type: 'string' },
    isTor: { path: 'data.isTor', type: 'boolean' },
    isWhitelisted: { path: 'data.isWhitelisted', type: 'boolean' },
    lastReportedAt: { path: 'data.lastReportedAt', type: 'date' },
  },
  rules: [
    { name: 'abuseConfidenceScore>=75', when: { field: 'abuseConfidenceScore', op: 'gte', value: 75 }, verdict: 'malicious', confidence: 'high', message: 'AbuseIPDB confidence of abuse {{fields.abuseConfidenceScore}}% from {{fields.totalReports}} reports' },
    { name: 'abuseConfidenceScore>=25', when: { field: 'abuseConfidenceScore', op: 'gte', value: 25 }, verdict: 'suspicious', confidence: 'medium', message: 'AbuseIPDB confidence of abuse {{fields.abuseConfidenceScore}}% from {{fields.totalReports}} reports' },
    { name: 'whitelisted', when: { field: 'isWhitelisted', op: 'eq', value: true }, verdict: 'benign', confidence: 'high', message: 'AbuseIPDB lists the address as whitelisted' },
  ],
  otherwise: { verdict: 'benign', confidence: 'low' },
  cacheTtl: { ipv4: '6h', ipv6: '6h' },
  rateLimit: [{ requests: 1000, per: '1d' }],
} as const;
