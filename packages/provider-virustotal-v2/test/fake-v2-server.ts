import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

