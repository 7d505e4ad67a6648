import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Enricher, ProviderInfo } from '@x/core';
import { zAppConfig } from '../app-config.js';
import { buildServer, hostAllowList } from './app.js';
import { createServiceMetrics } from './metrics.js';

// Sockets a client cannot hold, tested over real TCP with dripping clients (a handful of
// sockets, timeouts of a second or less; each test waits for the close event, not a margin).
const TOKEN = 'sockets-test-token-0123456789';
// A whole ProviderInfo: /v1/providers answers through its response schema.
const PROVIDERS: ProviderInfo[] = [
  { name: 'vt3', plugin: 'virustotal-v3', packageName: '@x/provider-virustotal-v3', version: '0.1.0', displayName: 'VirusTotal API v3', types: ['ipv4'], lifecycle: { status: 'active' }, circuitState: 'closed', rateLimit: [], batch: null },
];
const enricher = { providers: async () => PROVIDERS, enrich: async () => ({ records: [], summaries: [] }) } as unknown as Enricher;

let app: FastifyInstance | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await app?.close();
  app = undefined;
});

async function listen(server: Record<string, unknown>, token: string | null = TOKEN): Promise<number> {
  app = await buildServer({ enricher, server: zAppConfig.shape.server.parse(server), token: token ?? undefined, metrics: createServiceMetrics(async () => PROVIDERS), version: '0.0.0-test' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

/** A raw client: what it received, and a promise of its close. */
async function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}

/** Writes one byte every `everyMs` until the socket closes. */
function drip(socket: Socket, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) clearInterval(timer);
    else socket.write('a');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const postHead = (auth: boolean) =>
  `POST /v1/enrich HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n${auth ? `Authorization: Bearer ${TOKEN}\r\n` : ''}\r\n`;

describe('server sockets', () => {
  it('answers a POST without a token with 401 and closes the socket while the client still drips its body', async () => {
    const port = await listen({ bodyTimeout: 60_000 });
    const { socket, received, closed } = await client(port);
    socket.write(postHead(false));
    drip(socket, 20);
    await closed;
    expect(received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(received()).toMatch(/connection: close/i);
  });

  it('closes an authenticated request whose body drips slower than bodyTimeout', async () => {
    const port = await listen({ bodyTimeout: 500 });
    const { socket, received, closed } = await client(port);
    socket.write(postHead(true));
    drip(socket, 50);
    await closed;
    // Node answers 408 when it can, else it just closes: either way the socket is not held.
    expect(received()).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes a connection that sends no complete headers within connectionTimeout (silent, or dripping them)', async () => {
    const port = await listen({ connectionTimeout: 500, bodyTimeout: 60_000 });
    const silent = await client(port);
    const dripping = await client(port);
    dripping.socket.write('GET /healthz HTTP/1.1\r\nX-Slow: ');
    drip(dripping.socket, 50);
    await Promise.all([silent.closed, dripping.closed]);
  });

  it('holds at most maxConnections: a further connection is closed at once', async () => {
    const port = await listen({ maxConnections: 3 });
    for (let i = 0; i < 3; i++) await client(port);
    const extra = await client(port);
    await extra.closed;
    expect(extra.received()).toBe('');
    expect(app!.server.listening).toBe(true);
  });
});

describe('Host allow-list (no token)', () => {
  const get = async (host: string) => {
    const response = await app!.inject({ method: 'GET', url: '/v1/providers', headers: { host } });
    return response.statusCode;
  };

  it('without a token, accepts only the service\'s own names (DNS rebinding), any port', async () => {
    await listen({}, null);
    expect(await get('127.0.0.1:8080')).toBe(200);
    expect(await get('localhost')).toBe(200);
    expect(await get('[::1]:8080')).toBe(200);
    expect(await get('evil.example:8080')).toBe(421);
    expect(await get('127.0.0.1.evil.example')).toBe(421);
    // The last accepted Host is remembered (not parsed again); that must not let another through.
    expect(await get('localhost')).toBe(200);
    expect(await get('localhost')).toBe(200);
    expect(await get('localhost.evil.example')).toBe(421);
    expect(await get('[::1]:8080')).toBe(200);
  });

  it('takes server.allowedHosts, adds server.host unless it is a wildcard, and checks nothing with a token', async () => {
    expect([...hostAllowList({ host: '10.0.0.5' })]).toContain('10.0.0.5');
    expect([...hostAllowList({ host: '0.0.0.0' })]).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect([...hostAllowList({ host: '::', allowedHosts: ['enrich.internal', 'fd00::1'] })]).toEqual(['enrich.internal', '[fd00::1]']);
    await listen({}, TOKEN);
    const response = await app!.inject({ method: 'GET', url: '/v1/providers', headers: { host: 'evil.example', authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode).toBe(200);
  });
});
