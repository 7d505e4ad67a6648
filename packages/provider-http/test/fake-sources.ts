/**
 * One loopback server that answers like the six recipe sources, with bodies written from each
 * source's public API documentation (field names, types, not-found and error answers), not
 * captured from the services. `/<recipe>/...` is that source's API. It checks each source's
 * auth header, counts requests on arrival, and can be broken on purpose (the conformance
 * kit's faults).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ConformanceFault } from '@x/core/testing';

export const KEYS = { abuseipdb: 'abuse-key-0123456789', greynoise: 'gn-key-0123456789', urlhaus: 'abusech-key-0123456789', threatfox: 'abusech-key-0123456789', otx: 'otx-key-0123456789' } as const;

export const MALICIOUS_IP = '203.0.113.66';
export const SUSPICIOUS_IP = '198.51.100.7';
export const RESOLVER_IP = '8.8.8.8';
export const UNKNOWN_IP = '192.0.2.200';
/** An address AbuseIPDB answers 422 for (x-enrich itself never sends private ones: they are skipped). */
export const REFUSED_IP = '192.0.2.99';

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: unknown;
}
const ok = (body: unknown): Answer => ({ status: 200, body });

function abuseipdb(url: URL, req: IncomingMessage): Answer {
  if (req.headers.key !== KEYS.abuseipdb) return { status: 401, body: { errors: [{ detail: 'Authentication failed. Your API key is either missing, incorrect, or revoked.', status: 401 }] } };
  if (url.pathname !== '/check') return { status: 404, body: { errors: [{ detail: 'Not found', status: 404 }] } };
  const ip = url.searchParams.get('ipAddress') ?? '';
  if (!/^[\d.]+$|:/.test(ip) || ip === REFUSED_IP) return { status: 422, body: { errors: [{ detail: 'The ip address must be a valid public IPv4 or IPv6 address (e.g. 8.8.8.8).', source: { parameter: 'ipAddress' }, status: 422 }] } };
  const score = ip === MALICIOUS_IP ? 100 : ip === SUSPICIOUS_IP ? 30 : 0;
  return ok({
    data: {
      ipAddress: ip,
      isPublic: true,
      ipVersion: ip.includes(':') ? 6 : 4,
      isWhitelisted: ip === RESOLVER_IP,
      abuseConfidenceScore: score,
      countryCode: 'NL',
      usageType: 'Data Center/Web Hosting/Transit',
      isp: 'Example Hosting B.V.',
      domain: 'example-hosting.nl',
      hostnames: [],
      isTor: false,
      totalReports: score === 0 ? 0 : 42,
      numDistinctUsers: score === 0 ? 0 : 17,
      lastReportedAt: score === 0 ? null : '2026-11-30T22:01:13+00:00',
    },
  });
}

function greynoise(url: URL, req: IncomingMessage): Answer {
  if (req.headers.key !== KEYS.greynoise) return { status: 401, body: { message: 'Authentication failed: the key is missing or invalid.' } };
  const ip = url.pathname.slice(1);
  const base = { ip, link: `https://viz.greynoise.io/ip/${ip}`, last_seen: '2026-11-30', message: 'Success' };
  if (ip === MALICIOUS_IP) return ok({ ...base, noise: true, riot: false, classification: 'malicious', name: 'unknown' });
  if (ip === RESOLVER_IP) return ok({ ...base, noise: false, riot: true, classification: 'benign', name: 'Google Public DNS' });
  if (ip === SUSPICIOUS_IP) return ok({ ...base, noise: true, riot: false, classification: 'unknown', name: 'unknown' });
  return { status: 404, body: { ip, noise: false, riot: false, message: 'IP not observed scanning the internet or contained in RIOT data set.' } };
}

function urlhaus(url: URL, req: IncomingMessage, form: URLSearchParams): Answer {
  if (req.headers['auth-key'] !== KEYS.urlhaus) return { status: 401, body: { query_status: 'unknown_auth_key' } };
  if (req.method !== 'POST') return { status: 405, body: { query_status: 'http_post_expected' } };
  if (url.pathname === '/host/') {
    const host = form.get('host') ?? '';
    const entry = (id: number, status: string) => ({ id: String(id), urlhaus_reference: `https://urlhaus.abuse.ch/url/${id}/`, url: `http://${host}/bin/${id}.exe`, url_status: status, date_added: '2026-11-01 10:00:00 UTC', threat: 'malware_download', reporter: 'abuse_ch', larted: 'true', tags: ['exe', 'Emotet'] });
    if (host === 'evil.example' || host === MALICIOUS_IP) {
      return ok({ query_status: 'ok', urlhaus_reference: `https://urlhaus.abuse.ch/host/${host}/`, host, firstseen: '2026-10-01 08:00:00 UTC', url_count: '2', blacklists: { spamhaus_dbl: 'abused_legit_malware', surbl: 'listed' }, urls: [entry(1, 'online'), entry(2, 'offline')] });
    }
    if (host === 'old.example') return ok({ query_status: 'ok', urlhaus_reference: `https://urlhaus.abuse.ch/host/${host}/`, host, firstseen: '2025-01-01 08:00:00 UTC', url_count: '1', blacklists: { spamhaus_dbl: 'not listed', surbl: 'not listed' }, urls: [entry(3, 'offline')] });
    if (!/^[a-z0-9.-]+$/i.test(host)) return ok({ query_status: 'invalid_host' });
    return ok({ query_status: 'no_results' });
  }
  if (url.pathname === '/url/') {
    const target = form.get('url') ?? '';
    if (target === 'http://evil.example/bin/1.exe') {
      return ok({ query_status: 'ok', id: '1', urlhaus_reference: 'https://urlhaus.abuse.ch/url/1/', url: target, url_status: 'online', host: 'evil.example', date_added: '2026-11-01 10:00:00 UTC', last_online: null, threat: 'malware_download', blacklists: { spamhaus_dbl: 'abused_legit_malware', surbl: 'listed' }, reporter: 'abuse_ch', larted: 'true', takedown_time_seconds: null, tags: ['exe', 'Emotet'], payloads: [] });
    }
    return ok({ query_status: 'no_results' });
  }
  return { status: 404, body: { query_status: 'unknown_endpoint' } };
}

function threatfox(url: URL, req: IncomingMessage, _form: URLSearchParams, json: Json | undefined): Answer {
  if (req.headers['auth-key'] !== KEYS.threatfox) return { status: 401, body: { query_status: 'unknown_auth_key' } };
  if (url.pathname !== '/' || json?.query !== 'search_ioc') return ok({ query_status: 'unknown_query' });
  const term = String(json.search_term ?? '');
  if (term === 'evil.example' || term === MALICIOUS_IP) {
    return ok({
      query_status: 'ok',
      data: [
        { id: '1290001', ioc: term, threat_type: 'botnet_cc', threat_type_desc: 'Indicator that identifies a botnet command&control server (C&C)', ioc_type: 'domain', ioc_type_desc: 'Domain that is used for botnet Command&control (C&C)', malware: 'win.cobalt_strike', malware_printable: 'Cobalt Strike', malware_alias: 'Agentemis,BEACON,CobaltStrike', malware_malpedia: 'https://malpedia.caad.fkie.fraunhofer.de/details/win.cobalt_strike', confidence_level: 100, first_seen: '2026-11-01 12:00:00 UTC', last_seen: null, reference: 'https://example.org/report', reporter: 'abuse_ch', tags: ['CobaltStrike', 'c2'] },
      ],
    });
  }
  return ok({ query_status: 'no_result', data: 'Your search did not yield any results' });
}

function otx(url: URL, req: IncomingMessage): Answer {
  if (req.headers['x-otx-api-key'] !== KEYS.otx) return { status: 403, body: { detail: 'Authentication credentials were not provided.' } };
  const match = /^\/indicators\/(IPv4|IPv6|domain|hostname|url|file)\/(.+)\/general$/.exec(url.pathname);
  if (!match) return { status: 404, body: { detail: 'Not found.' } };
  const value = decodeURIComponent(match[2]!);
  const pulses = value === MALICIOUS_IP || value === 'evil.example' ? 12 : value === SUSPICIOUS_IP ? 1 : value === RESOLVER_IP ? 30 : 0;
  return ok({
    indicator: value,
    type: match[1],
    reputation: 0,
    country_code: 'NL',
    asn: 'AS64500 Example',
    validation: value === RESOLVER_IP ? [{ source: 'whitelist', message: 'Whitelisted IP', name: 'Whitelisted IP' }] : [],
    pulse_info: {
      count: pulses,
      pulses: Array.from({ length: Math.min(pulses, 8) }, (_, i) => ({ id: `p${i}`, name: `Pulse ${i}`, tags: [] })),
      related: { alienvault: { malware_families: [] }, other: { malware_families: pulses > 5 ? ['Emotet'] : [] } },
      references: [],
    },
  });
}

function shodan(url: URL): Answer {
  const ip = url.pathname.slice(1);
  if (ip === MALICIOUS_IP) return ok({ ip, ports: [443, 50050], cpes: [], hostnames: [], tags: ['c2', 'self-signed'], vulns: [] });
  if (ip === SUSPICIOUS_IP) return ok({ ip, ports: [22, 80], cpes: ['cpe:/a:openbsd:openssh:7.4'], hostnames: ['old.example'], tags: [], vulns: ['CVE-2014-0160', 'CVE-2018-15473'] });
  if (ip === RESOLVER_IP) return ok({ ip, ports: [53, 443], cpes: [], hostnames: ['dns.google'], tags: [], vulns: [] });
  return { status: 404, body: { detail: 'No information available' } };
}

const ROUTES: Record<string, (url: URL, req: IncomingMessage, form: URLSearchParams, json: Json | undefined) => Answer> = {
  abuseipdb,
  greynoise,
  urlhaus,
  threatfox,
  otx,
  'shodan-internetdb': shodan,
};

export interface FakeSources {
  url(recipe: string): string;
  /** Requests that arrived, per recipe. */
  counts: Record<string, number>;
  setFault(fault: ConformanceFault | null): void;
  /** Sockets closed while a request hung (the kit's abort check). */
  closedWhileHanging: number;
  close(): Promise<void>;
}

export async function startFakeSources(): Promise<FakeSources> {
  let fault: ConformanceFault | null = null;
  const counts: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const state = { closedWhileHanging: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, recipe = '', ...rest] = url.pathname.split('/');
    counts[recipe] = (counts[recipe] ?? 0) + 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (fault === 'hang') {
        res.on('close', () => state.closedWhileHanging++);
        return;
      }
      if (fault === 'reset') return req.socket.destroy();
      if (fault === 'http_500') return void res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
      if (fault === 'garbage_json') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": {');
      const text = Buffer.concat(chunks).toString();
      const type = req.headers['content-type'] ?? '';
      const form = type.includes('x-www-form-urlencoded') ? new URLSearchParams(text) : new URLSearchParams();
      let json: Json | undefined;
      if (type.includes('json')) {
        try {
          json = JSON.parse(text) as Json;
        } catch {
          json = undefined;
        }
      }
      const route = ROUTES[recipe];
      const inner = new URL(`/${rest.join('/')}${url.search}`, 'http://fake');
      const answer = route ? route(inner, req, form, json) : { status: 404, body: { detail: 'no such source' } };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (recipe) => `http://127.0.0.1:${port}/${recipe}`,
    counts,
    setFault(next) {
      fault = next;
    },
    get closedWhileHanging() {
      return state.closedWhileHanging;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
