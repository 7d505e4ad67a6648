import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { AbortWatch } from '../resilience/attempt-timeout.js';
// Types only: axios is loaded only when the environment names a proxy (see `proxyFromEnv`).
import type { AxiosInstance, AxiosStatic } from 'axios';

/** One request as the transport sends it: the URL already split, headers and body final. */
export interface Exchange {
  readonly method: string;
  /** `http:` or `https:`. */
  readonly protocol: string;
  /** Without IPv6 brackets. */
  readonly hostname: string;
  readonly port: string;
  /** Path and query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * `headers` as node:http's flat list (`[name, value, ...]`), `Host` included, used instead of
   * them when present; the client sets it only for a request
   * without a body; built once per upstream. node:http then writes the head at once instead of
   * a `setHeader` (a lower-cased name and an entry array) per header, objects every request in
   * flight kept (docs/performance.md). The bytes sent are the same.
   */
  readonly headerList?: readonly string[];
  readonly body?: string;
  /** An `AbortSignal`, or the running attempt itself (`abortWatchOf`). */
  readonly signal?: AbortWatch;
  /** From sending the request to the last byte of the answer. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Every status resolves; the body as text (decompressed, UTF-8, BOM stripped). */
export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface Transport {
  send(exchange: Exchange): Promise<RawAnswer>;
  close(): void;
}

/**
 * A transport failure that is ours rather than the socket's: `ETIMEDOUT` (the request outlived
 * its timeout) or `X_TOO_LARGE` (the body passed `maxBytes`). Carries no URL or header.
 */
export class TransportFailure extends Error {
  constructor(readonly code: 'ETIMEDOUT' | 'X_TOO_LARGE') {
    super(code === 'ETIMEDOUT' ? 'request timed out' : 'response body too large');
  }
}

const requireFromHere = createRequire(import.meta.url);

/**
 * The transport core sends with: node:http(s) over keep-alive agents, one socket per request in
 * flight up to `maxSockets`. It replaced axios on the hot path: the misses bench profile showed
 * axios's per-request work (config merging, header objects, proxy and environment checks, its
 * own streams and promise chain) at ~200 µs of CPU per request, as much as the whole bare client
 * (docs/performance.md). What axios did for us is kept here: no redirects (node:http follows
 * none), a timeout, the abort signal, a body size cap, decompression (gzip, deflate, br).
 * Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) are still
 * axios's: see `createTransport`.
 */
export class NodeTransport implements Transport {
  private readonly http: typeof import('node:http');
  private readonly https: typeof import('node:https');
  private readonly httpAgent: Agent;
  private readonly httpsAgent: Agent;

  constructor(maxSockets: number) {
    // Required here, not imported at the top: a run served from the cache never sends a request.
    this.http = requireFromHere('node:http') as typeof import('node:http');
    this.https = requireFromHere('node:https') as typeof import('node:https');
    const sockets = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    this.httpAgent = new this.http.Agent(sockets);
    this.httpsAgent = new this.https.Agent(sockets);
  }

  send(exchange: Exchange): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      const { signal } = exchange;
      if (signal?.aborted) return reject(abortedError());
      const secure = exchange.protocol === 'https:';
      const options: RequestOptions = {
        agent: secure ? this.httpsAgent : this.httpAgent,
        method: exchange.method,
        hostname: exchange.hostname,
        port: exchange.port,
        path: exchange.path,
        headers: (exchange.headerList as string[] | undefined) ?? exchange.headers,
      };
      let done = false;
      // One listener of our own rather than node:http's `signal` option, which also watches the
      // request's end through four more listeners per request.
      const onAbort = (): void => fail(abortedError());
      const settled = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const fail = (error: Error): void => {
        if (!settled()) return;
        reject(error);
        // Closes the socket: an answer still on its way must not be read as the next request's.
        req.destroy();
      };
      const req: ClientRequest = (secure ? this.https : this.http).request(options);
      // A listener of our own rather than the callback, which node:http wraps in a `once`
      // (a wrapper and its state per request); a request answers once.
      req.on('response', (res: IncomingMessage) =>
        readBody(res, exchange.maxBytes, (text) => {
          if (settled()) resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        }, fail),
      );
      const timer = setTimeout(() => fail(new TransportFailure('ETIMEDOUT')), exchange.timeoutMs);
      signal?.addEventListener('abort', onAbort);
      req.on('error', fail);
      req.end(exchange.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * `headers` with the `Host` header node:http would add (brackets around an IPv6 address, the
 * port unless it is the default, which a parsed URL leaves empty), as node:http's flat list; or
 * undefined when `headers` names a host itself.
 */
export function headerListOf(headers: Readonly<Record<string, string>>, hostname: string, port: string): string[] | undefined {
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host') return undefined;
    list.push(name, value);
  }
  const colon = hostname.indexOf(':');
  const host = colon !== -1 && hostname.includes(':', colon + 1) && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  list.push('Host', port ? `${host}:${port}` : host);
  return list;
}

/** What node:http's own `signal` option rejects with; `transportError` reads the signal first anyway. */
function abortedError(): Error {
  return Object.assign(new Error('The request was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

const decoders: Record<string, (() => NodeJS.ReadWriteStream) | undefined> = {
  gzip: () => (requireFromHere('node:zlib') as typeof import('node:zlib')).createGunzip(),
  'x-gzip': () => (requireFromHere('node:zlib') as typeof import('node:zlib')).createGunzip(),
  deflate: () => (requireFromHere('node:zlib') as typeof import('node:zlib')).createInflate(),
  br: () => (requireFromHere('node:zlib') as typeof import('node:zlib')).createBrotliDecompress(),
};

/**
 * The answer's body as text, decompressed, to `resolve`; `reject` past `maxBytes` (of the
 * decoded body) without reading on. Callbacks, not a promise: `send`'s own promise is the one
 * the caller awaits. Either may be called more than once (`send` settles once).
 */
function readBody(res: IncomingMessage, maxBytes: number, resolve: (text: string) => void, reject: (error: Error) => void): void {
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  const decoder = encoding ? decoders[encoding] : undefined;
  const stream: Readable = decoder ? (res.pipe(decoder()) as unknown as Readable) : res;
  const chunks: Buffer[] = [];
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      stream.removeAllListeners('data');
      reject(new TransportFailure('X_TOO_LARGE'));
      res.destroy();
      return;
    }
    chunks.push(chunk);
  });
  stream.on('error', reject);
  if (stream !== res) res.on('error', reject);
  res.on('aborted', () => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
  stream.on('end', () => {
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8');
    resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  });
}

/**
 * axios, for upstreams reached through a proxy named in the environment: its proxy-from-env
 * rules (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, either case) are what x-enrich
 * has always honoured, and the cost of axios matters little next to a proxy hop.
 */
export class AxiosTransport implements Transport {
  private readonly axios: AxiosInstance;
  private readonly agents: Agent[];

  constructor(maxSockets: number) {
    const axios = requireFromHere('axios') as AxiosStatic;
    const { Agent: HttpAgent } = requireFromHere('node:http') as typeof import('node:http');
    const { Agent: HttpsAgent } = requireFromHere('node:https') as typeof import('node:https');
    const sockets = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    const httpAgent = new HttpAgent(sockets);
    const httpsAgent = new HttpsAgent(sockets);
    this.agents = [httpAgent, httpsAgent];
    this.axios = axios.create({
      httpAgent,
      httpsAgent,
      // Never follow a redirect: the auth header or query parameter would travel with it.
      maxRedirects: 0,
      validateStatus: null,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
    });
  }

  async send(exchange: Exchange): Promise<RawAnswer> {
    const host = exchange.hostname.includes(':') ? `[${exchange.hostname}]` : exchange.hostname;
    // axios wants an AbortSignal: one linked to the watch when it is a running attempt.
    const watch = exchange.signal;
    let signal: AbortSignal | undefined;
    let unlink: (() => void) | undefined;
    if (watch instanceof AbortSignal || watch === undefined) signal = watch;
    else {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort();
      if (watch.aborted) controller.abort();
      else watch.addEventListener('abort', onAbort);
      unlink = () => watch.removeEventListener('abort', onAbort);
      signal = controller.signal;
    }
    try {
      const response = await this.axios.request<string>({
        method: exchange.method,
        url: `${exchange.protocol}//${host}${exchange.port ? `:${exchange.port}` : ''}${exchange.path}`,
        headers: exchange.headers,
        data: exchange.body,
        signal,
        timeout: exchange.timeoutMs,
        maxContentLength: exchange.maxBytes,
      });
      const headers: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) if (value !== undefined && value !== null) headers[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
      return { status: response.status, headers, text: typeof response.data === 'string' ? response.data : '' };
    } catch (error) {
      if (/maxContentLength/.test((error as { message?: unknown } | null)?.message as string)) throw new TransportFailure('X_TOO_LARGE');
      throw error;
    } finally {
      unlink?.();
    }
  }

  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}

const env = (name: string): string | undefined => process.env[name] || process.env[name.toUpperCase()] || undefined;

/** Whether the environment names a proxy for `protocol` (`http:` / `https:`), as proxy-from-env reads it. */
export function proxyFromEnv(protocol: string): boolean {
  return Boolean(env(`${protocol.replace(/:$/, '')}_proxy`) ?? env('all_proxy'));
}

