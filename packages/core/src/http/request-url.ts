import { XEnrichError } from '../contract/x-enrich-error.js';
import type { UpstreamQuery } from './upstream.js';

/**
 * Encodes one path segment so no value can change the path: `/`, `?`, `#` and `%` are
 * percent-encoded by `encodeURIComponent`. Segments that URL resolution would collapse or drop
 * (empty, `.`, `..`, and their `%2e` spellings, which WHATWG URLs also treat as dots) cannot be
 * made safe by encoding, and no observable of any type looks like that: refused.
 * @throws XEnrichError X_OBSERVABLE_INVALID for an empty or dot-only segment.
 */
export function encodeSegment(segment: string): string {
  const encoded = encodeURIComponent(segment);
  if (/^(?:\.|%2e)*$/i.test(encoded)) {
    throw new XEnrichError('X_OBSERVABLE_INVALID', `${JSON.stringify(segment)} cannot be sent as a path segment: an empty or dot-only value would change the request path.`);
  }
  return encoded;
}

/**
 * The base URL as a prefix to append encoded segments to (no trailing slash), checked once.
 * @throws XEnrichError X_PLUGIN_REGISTER_FAILED when it is not an absolute http(s) URL without
 * query string, fragment or credentials.
 */
export function baseUrlPrefix(baseUrl: string, upstream: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `The base URL of ${upstream} is not an absolute URL.`);
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `uses ${url.protocol} (http or https expected)`
      : url.search || url.hash || baseUrl.includes('?') || baseUrl.includes('#')
        ? 'carries a query string or fragment (requests add their own)'
        : url.username || url.password
          ? 'carries credentials (pass them as auth)'
          : undefined;
  if (problem) throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `The base URL of ${upstream} ${problem}.`);
  return url.href.replace(/\/+$/, '');
}

/** `path` encoded below the prefix: `/a/b`, or `/a/b/` with `trailingSlash` (some APIs require it, abuse.ch's). */
export function encodePath(path: readonly string[], trailingSlash = false): string {
  let out = '';
  for (const segment of path) out += '/' + encodeSegment(segment);
  return trailingSlash ? out + '/' : out;
}

/** The query string (without `?`), or '' when there is nothing to send. */
export function encodeQuery(query: UpstreamQuery | undefined, auth: { name: string; value: string } | undefined): string {
  if (!query && !auth) return '';
  const params = new URLSearchParams();
  if (query) {
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(name, item);
      else params.append(name, String(value));
    }
  }
  if (auth) params.append(auth.name, auth.value);
  return params.toString();
}
