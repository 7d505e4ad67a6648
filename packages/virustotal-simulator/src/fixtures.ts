import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { canonicalUrl, hashKind, ipVersion, isValidDomain, urlSha256, type ObjectKind } from './observables.js';
import type { Fixture } from './options.js';

/** Captured responses by API version and `kind:value` key. */
export interface FixtureIndex {
  v3: Map<string, unknown>;
  v2: Map<string, unknown>;
  /** What was loaded, for the CLI banner and the stats endpoint. */
  loaded: string[];
  /**
   * Captures that answer an observable an earlier file already answers (`key` is `kind:value`):
   * the first file keeps it, and the clash is reported here (and by the CLI) instead of one
   * capture silently shadowing the other. Fixtures given in code win over files on purpose.
   */
  duplicates: Array<{ api: 'v3' | 'v2'; key: string; kept: string; ignored: string }>;
}

/** Where each indexed key came from, to report duplicates. */
type Sources = Map<string, string>;
const sourcesOf = new WeakMap<FixtureIndex, { v3: Sources; v2: Sources }>();

function put(index: FixtureIndex, api: 'v3' | 'v2', key: string, value: unknown, source: string): void {
  const sources = sourcesOf.get(index)!;
  const existing = index[api].get(key);
  const from = sources[api].get(key);
  // Fixtures given in code replace files on purpose; a second file for the same key is a clash.
  if (existing !== undefined && existing !== value && from !== undefined && !source.startsWith('fixtures[')) {
    if (from !== source) index.duplicates.push({ api, key, kept: from, ignored: source });
    return;
  }
  index[api].set(key, value);
  sources[api].set(key, source);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The lookup key the server uses for an observable. */
export function fixtureKey(kind: ObjectKind, value: string): string {
  return `${kind}:${value.toLowerCase()}`;
}

function indexV3(index: FixtureIndex, body: Record<string, unknown>, hint: Pick<Fixture, 'type' | 'value'>, source: string): boolean {
  const object = isObject(body.data) ? body.data : body;
  const kind = (hint.type ?? object.type) as ObjectKind;
  if (!['ip_address', 'domain', 'file', 'url'].includes(kind) || typeof object.id !== 'string') return false;
  // Served wrapped, as GET /{collection}/{id} returns it, whether or not the capture had the wrapper.
  const document = { data: object };
  const attributes = isObject(object.attributes) ? object.attributes : {};
  const keys = new Set<string>([object.id]);
  if (hint.value) keys.add(kind === 'url' ? urlSha256(hint.value) : hint.value);
  if (kind === 'file') for (const name of ['md5', 'sha1', 'sha256']) if (typeof attributes[name] === 'string') keys.add(attributes[name] as string);
  if (kind === 'url' && typeof attributes.url === 'string') keys.add(urlSha256(attributes.url));
  // Some captures carry an analysis id (`u-<sha256>-<timestamp>`) where the object id belongs.
  const analysisId = /^u-([0-9a-f]{64})-\d+$/i.exec(object.id);
  if (kind === 'url' && analysisId) keys.add(analysisId[1] as string);
  for (const key of keys) put(index, 'v3', fixtureKey(kind, key), document, source);
  return true;
}

/** Guesses the domain or IP a v2 report is about: it is not in the body, so whois and the file name are used. */
function v2Subject(body: Record<string, unknown>, file: string | undefined, kind: 'domain' | 'ip_address'): string | undefined {
  if (kind === 'domain' && typeof body.whois === 'string') {
    const match = /Domain Name:\s*([^\s]+)/i.exec(body.whois);
    if (match && isValidDomain(match[1] as string)) return (match[1] as string).toLowerCase();
  }
  if (!file) return undefined;
  const tokens = basename(file).replace(/\.json$/i, '').split('_');
  return tokens.find((token) => (kind === 'domain' ? isValidDomain(token) && !ipVersion(token) : ipVersion(token) !== 0));
}

function indexV2(index: FixtureIndex, body: Record<string, unknown>, hint: Pick<Fixture, 'type' | 'value'>, file: string | undefined, source: string): boolean {
  let kind = hint.type;
  if (!kind) {
    if (typeof body.md5 === 'string' || typeof body.sha256 === 'string') kind = 'file';
    else if (typeof body.url === 'string') kind = 'url';
    else if (body.verbose_msg === 'Domain found in dataset' || 'domain_siblings' in body || 'subdomains' in body) kind = 'domain';
    else if (body.verbose_msg === 'IP address in dataset' || 'as_owner' in body || 'asn' in body) kind = 'ip_address';
    else if (typeof body.resource === 'string') kind = hashKind(body.resource) ? 'file' : 'url';
  }
  if (!kind || typeof body.response_code !== 'number') return false;
  // A scan or rescan submission (`file/scan`, `file/rescan`, `url/scan`, `url/report?scan=1`)
  // answers response_code 1 with a scan_id but no scans: it is not a report, and indexed as one
  // it would shadow the real report of the same resource.
  if ((kind === 'file' || kind === 'url') && body.response_code === 1 && !('scans' in body) && !('positives' in body)) return false;
  const keys = new Set<string>();
  if (hint.value) keys.add(kind === 'url' ? urlSha256(hint.value) : hint.value);
  if (kind === 'file') {
    for (const name of ['md5', 'sha1', 'sha256', 'resource']) if (typeof body[name] === 'string' && hashKind(body[name] as string)) keys.add(body[name] as string);
  } else if (kind === 'url') {
    for (const name of ['url', 'resource']) if (typeof body[name] === 'string') keys.add(urlSha256(canonicalUrl(body[name] as string)));
  } else if (!hint.value) {
    const subject = v2Subject(body, file, kind);
    if (subject) keys.add(subject);
  }
  for (const key of keys) put(index, 'v2', fixtureKey(kind, key), body, source);
  return keys.size > 0;
}

function add(index: FixtureIndex, fixture: Fixture, file: string | undefined, source: string): boolean {
  const items = Array.isArray(fixture.body) ? fixture.body : [fixture.body];
  let used = false;
  for (const item of items) {
    if (!isObject(item)) continue;
    const api = fixture.api ?? ('response_code' in item ? 'v2' : 'v3');
    used = (api === 'v3' ? indexV3(index, item, fixture, source) : indexV2(index, item, fixture, file, source)) || used;
  }
  return used;
}

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await jsonFiles(path)));
    else if (entry.name.endsWith('.json')) files.push(path);
  }
  return files;
}

/**
 * Loads captured responses: every `*.json` under the folders (v3 objects with or without the
 * `data` wrapper, v2 reports and v2 batch arrays; anything else, like error bodies and
 * collections, is skipped) and the fixtures given in code, which win over files. Invalid
 * JSON fails with the file's name.
 */
export async function loadFixtures(dirs: string[], fixtures: Fixture[]): Promise<FixtureIndex> {
  const index: FixtureIndex = { v3: new Map(), v2: new Map(), loaded: [], duplicates: [] };
  sourcesOf.set(index, { v3: new Map(), v2: new Map() });
  for (const dir of dirs) {
    for (const file of await jsonFiles(dir)) {
      let body: unknown;
      try {
        body = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new Error(`Cannot load fixture ${file}: ${(error as Error).message}`, { cause: error });
      }
      if (add(index, { body }, file, file)) index.loaded.push(file);
    }
  }
  fixtures.forEach((fixture, i) => {
    if (!add(index, fixture, undefined, `fixtures[${i}]`)) throw new Error(`fixtures[${i}]: cannot tell which observable it answers; give api, type and value`);
    index.loaded.push(`fixtures[${i}]`);
  });
  return index;
}
