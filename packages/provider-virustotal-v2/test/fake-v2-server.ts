import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@x/core';

/** A request the fake server saw: path and decoded query. */
export interface SeenRequest {
  path: string;
  query: Record<string, string>;
}

export type Respond = (request: SeenRequest, res: ServerResponse) => void;

/**
 * A real HTTP server on an ephemeral loopback port that answers like the v2 API, driven by a
 * per-test `respond` function. For the HTTP layer before the shared simulator exists; it is
 * not a mock of our own code.
 */
export async function startFakeV2(respond: Respond) {
  const seen: SeenRequest[] = [];
  let handler = respond;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request = { path: url.pathname, query: Object.fromEntries(url.searchParams) };
    seen.push(request);
    handler(request, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/vtapi/v2/`,
    seen,
    setRespond(next: Respond) {
      handler = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function sendJson(res: ServerResponse, body: unknown, status = 200) {
  res.writeHead(status, { 'content-type': 'application/json' });
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
