import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { headerListOf, NodeTransport } from './transport.js';

describe('headerListOf', () => {
  it('lists the headers in order, then the Host node:http would add', () => {
    expect(headerListOf({ accept: 'application/json', 'x-apikey': 'k' }, 'example.com', '8080')).toEqual(['accept', 'application/json', 'x-apikey', 'k', 'Host', 'example.com:8080']);
    expect(headerListOf({ accept: 'a' }, 'example.com', '')).toEqual(['accept', 'a', 'Host', 'example.com']);
    expect(headerListOf({}, '::1', '3000')).toEqual(['Host', '[::1]:3000']);
  });

  it('leaves a host named by the headers to the object form', () => {
    expect(headerListOf({ HOST: 'other.example' }, 'example.com', '')).toBeUndefined();
  });
});

describe('NodeTransport with a header list', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends the same head as with the headers object', async () => {
    const heads: string[] = [];
    server = createServer((socket) =>
      socket.on('data', (data) => {
        heads.push(data.toString());
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }),
    ).listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const port = String((server.address() as { port: number }).port);
    const transport = new NodeTransport(2);
    const headers = { accept: 'application/json', 'user-agent': 'x-enrich/test', 'x-apikey': 'k' };
    const exchange = { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/api/v3/ip_addresses/1.2.3.4?x=1', headers, timeoutMs: 5_000, maxBytes: 1_000 };
    try {
      const first = await transport.send(exchange);
      const second = await transport.send({ ...exchange, headerList: headerListOf(headers, '127.0.0.1', port) });
      expect([first.text, second.text]).toEqual(['ok', 'ok']);
      expect(heads).toHaveLength(2);
      expect(heads[1]).toBe(heads[0]);
      expect(heads[0]).toContain(`\r\nHost: 127.0.0.1:${port}\r\n`);
    } finally {
      transport.close();
    }
  });
});
