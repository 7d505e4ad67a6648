import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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


/** Awaits a promise that must reject, and returns the rejection. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
