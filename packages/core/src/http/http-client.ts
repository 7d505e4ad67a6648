import { createRequire } from 'node:module';
import type { AxiosError, AxiosInstance, AxiosStatic, InternalAxiosRequestConfig } from 'axios';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import type { RateLimiter } from '../stores/rate-limit-store.js';
import { redactSecrets, toUpstreamError, type RequestSummary } from './upstream-error-mapping.js';

/** The HTTP client providers receive under `Tokens.HttpClient`: an axios instance. */
export type HttpClient = AxiosInstance;

/** One finished upstream request, for metrics. Carries no URL, headers or params. */
export interface HttpCallInfo {
  method: string;
  status: number | undefined;
  durationMs: number;
  /** The x-enrich error code when the request failed. */
  errorCode?: string;
}

export interface HttpClientOptions {
  baseURL?: string;
  /** Every request waits for one unit of this limiter's budget before it is sent. */
  rateLimiter?: RateLimiter;
  /** Values that must never appear in errors or logs (API keys). */
  secrets?: readonly string[];
  logger?: Logger;
  /** Per-request socket timeout (ms). The engine's per-attempt timeout applies on top. Default 30s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Which statuses resolve instead of failing (axios `validateStatus`); e.g. accept 404 to map it to not_found yourself. */
  validateStatus?: (status: number) => boolean;
  onCall?: (info: HttpCallInfo) => void;
}

const STARTED = Symbol('x-enrich.startedAt');
type TimedConfig = InternalAxiosRequestConfig & { [STARTED]?: number };

function summarize(config: InternalAxiosRequestConfig | undefined, secrets: readonly string[]): RequestSummary {
  const method = (config?.method ?? 'get').toUpperCase();
  let path = '/';
  try {
    const url = new URL(config?.url ?? '', config?.baseURL ?? 'http://upstream.invalid');
    path = url.pathname;
  } catch {
    path = (config?.url ?? '/').split('?')[0] ?? '/';
  }
  return { method, path: redactSecrets(path, secrets) };
}

/**
 * Creates the axios instance a provider uses for its upstream. Before EVERY request it awaits
 * `rateLimiter.acquire(1, signal)`, so quota is counted per upstream request in the provider's
 * own units (one batch request = 1). Every failure becomes an `UpstreamError` (kinds network,
 * timeout, auth, quota with `retryAfterMs`, bad_request, http, bad_response) whose message holds
 * the method, the path without query string and the status, never headers, params or secrets.
 * JSON parsing is strict: a 2xx with a body that is not JSON fails as `bad_response`.
 * Providers set their own auth header or params per request.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  // axios's Node build costs ~150 ms to import (form-data, mime-db), yet a run served from the
  // cache never sends a request. So the instance is built on first use: the proxy forwards
  // every property read, write and call to it.
  let client: AxiosInstance | undefined;
  const real = (): AxiosInstance => (client ??= buildHttpClient(loadAxios(), options));
  return new Proxy((() => undefined) as unknown as AxiosInstance, {
    get: (_target, property) => Reflect.get(real(), property),
    set: (_target, property, value) => Reflect.set(real(), property, value),
    has: (_target, property) => Reflect.has(real(), property),
    apply: (_target, thisArg, args: unknown[]) => Reflect.apply(real() as unknown as (...a: unknown[]) => unknown, thisArg, args),
  });
}

const requireFromHere = createRequire(import.meta.url);
let axiosStatic: AxiosStatic | undefined;
function loadAxios(): AxiosStatic {
  return (axiosStatic ??= requireFromHere('axios') as AxiosStatic);
}

/**
 * axios's own `isAxiosError` test, without importing axios (see createHttpClient): providers
 * use it to read the response of a failed request they want to map themselves.
 */
export function isAxiosError(error: unknown): error is AxiosError {
  return typeof error === 'object' && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true;
}

function buildHttpClient(axios: AxiosStatic, options: HttpClientOptions): AxiosInstance {
  const secrets = options.secrets ?? [];
  const logger = options.logger ?? silentLogger;
  const client = axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs ?? 30_000,
    headers: options.headers,
    responseType: 'json',
    transitional: { silentJSONParsing: false, clarifyTimeoutError: true, forcedJSONParsing: true },
    ...(options.validateStatus ? { validateStatus: options.validateStatus } : {}),
  });

  client.interceptors.request.use(async (config: TimedConfig) => {
    if (options.rateLimiter) await options.rateLimiter.acquire(1, (config.signal as AbortSignal | undefined) ?? undefined);
    config[STARTED] = Date.now();
    return config;
  });

  client.interceptors.response.use(
    (response) => {
      const config = response.config as TimedConfig;
      const durationMs = Date.now() - (config[STARTED] ?? Date.now());
      const summary = summarize(config, secrets);
      logger.debug({ method: summary.method, path: summary.path, status: response.status, durationMs }, 'upstream request');
      options.onCall?.({ method: summary.method, status: response.status, durationMs });
      return response;
    },
    (error: unknown) => {
      const config = (error as { config?: TimedConfig }).config;
      const summary = summarize(config, secrets);
      const upstream = toUpstreamError(error, summary, secrets);
      const status = (upstream.details.status as number | undefined) ?? undefined;
      const durationMs = config?.[STARTED] ? Date.now() - config[STARTED] : 0;
      if (config?.[STARTED]) {
        logger.debug({ method: summary.method, path: summary.path, status, durationMs, code: upstream.code }, 'upstream request failed');
        options.onCall?.({ method: summary.method, status, durationMs, errorCode: upstream.code });
      }
      return Promise.reject(upstream);
    },
  );
  return client;
}
