// A loopback proxy in front of the VirusTotal simulator that holds chosen requests: the "1 % slow
// responses" of the head-of-line figure (bench/head-of-line.mjs) and test. Plain node:http, no
// dependency: it only forwards method, path, headers and body, and counts what arrives.
import { Buffer } from 'node:buffer';
import { createServer, request } from 'node:http';
import { once } from 'node:events';

/**
 * @param {{ target: string, isSlow: (path: string) => boolean, slowMs?: number }} options
 *   `slowMs`: hold slow requests this long; without it they are held until `release()`.
 */
export async function startSlowProxy(options) {
  const target = new URL(options.target);
  const held = [];
  let arrived = 0;
  let slowArrived = 0;
  const waiters = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.ready()) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const forward = (req, res, body) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: target.pathname.replace(/\/$/, '') + req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    arrived++;
    if (options.isSlow(req.url ?? '')) {
      slowArrived++;
      if (options.slowMs !== undefined) setTimeout(() => forward(req, res, body), options.slowMs);
      else held.push(() => forward(req, res, body));
    } else {
      forward(req, res, body);
    }
    check();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    get arrived() {
      return arrived;
    },
    get slowArrived() {
      return slowArrived;
    },
    /** Resolves once `count` requests arrived (slow ones included). */
    waitForArrivals(count) {
      return new Promise((resolve) => {
        waiters.push({ ready: () => arrived >= count, resolve });
        check();
      });
    },
    /** Lets every held request through. */
    release() {
      for (const go of held.splice(0)) go();
    },
    async close() {
      this.release();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
