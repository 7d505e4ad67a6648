import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@x/core';

/** A request the fake server saw: the raw request target (as sent, still percent-encoded) and headers. */
export interface SeenRequest {
  rawUrl: string;
  headers: IncomingMessage['headers'];
}

export type Respond = (request: SeenRequest, res: ServerResponse) => void;

/**
 * A real HTTP server on an ephemeral loopback port, driven by a per-test `respond` function:
 * for the client's status handling and path encoding, which need the raw request target and
 * arbitrary statuses. End-to-end behaviour is tested against @x/virustotal-simulator.
 */
export async function startFakeV3(respond: Respond = (_request, res) => void res.writeHead(500).end()) {
  const seen: SeenRequest[] = [];
  let handler = respond;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const request = { rawUrl: req.url ?? '/', headers: req.headers };
    seen.push(request);
    handler(request, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v3`,
    seen,
    setRespond(next: Respond) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** A logger that keeps every call, serialized, so tests can grep it for secrets. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log = (level: string) => (obj: object, msg?: string) => void lines.push(JSON.stringify({ level, ...bindings, ...obj, msg }));
    return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { lines });
}

/** Everything an error exposes: message, stack, cause chain, own properties. */
export function dumpError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '');
      try {
        parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
      } catch {
        parts.push('[unserializable]');
      }
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
