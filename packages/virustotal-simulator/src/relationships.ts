import { ipVersion, urlHost, urlSha256, type ObjectKind } from './observables.js';
import { digest, SeededRandom } from './rng.js';

/**
 * The relationships the simulator serves, per object kind, with the kind of the related
 * objects (VirusTotal API v3 reference, "Relationships" of each object). `one`: a one-to-one
 * relationship (`data` is one descriptor or null), else one-to-many (a collection).
 */
export type RelatedKind = ObjectKind | 'resolution';
export interface RelationshipSpec {
  target: RelatedKind;
  one?: boolean;
}

export const RELATIONSHIPS: Record<ObjectKind, Record<string, RelationshipSpec>> = {
  ip_address: {
    resolutions: { target: 'resolution' },
    communicating_files: { target: 'file' },
    downloaded_files: { target: 'file' },
    referrer_files: { target: 'file' },
    urls: { target: 'url' },
  },
  domain: {
    resolutions: { target: 'resolution' },
    subdomains: { target: 'domain' },
    siblings: { target: 'domain' },
    parent: { target: 'domain', one: true },
    communicating_files: { target: 'file' },
    downloaded_files: { target: 'file' },
    referrer_files: { target: 'file' },
    urls: { target: 'url' },
  },
  file: {
    contacted_domains: { target: 'domain' },
    contacted_ips: { target: 'ip_address' },
    contacted_urls: { target: 'url' },
    execution_parents: { target: 'file' },
    bundled_files: { target: 'file' },
    dropped_files: { target: 'file' },
    itw_urls: { target: 'url' },
    itw_domains: { target: 'domain' },
    itw_ips: { target: 'ip_address' },
  },
  url: {
    last_serving_ip_address: { target: 'ip_address', one: true },
    network_location: { target: 'domain', one: true },
    downloaded_files: { target: 'file' },
    contacted_domains: { target: 'domain' },
    contacted_ips: { target: 'ip_address' },
    redirecting_urls: { target: 'url' },
    redirects_to: { target: 'url' },
  },
};

/** A related item before rendering: its descriptor, plus what the renderer needs to build it. */
export interface RelatedItem {
  type: RelatedKind;
  id: string;
  /** For URLs: the URL itself (the id is its SHA-256). */
  url?: string;
  /** For resolutions: the two ends and the date. */
  resolution?: { ip: string; host: string; date: number };
}

/** Default and largest page size of relationship collections (`?limit=`), as the real API. */
export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 40;

const WORDS = ['cdn', 'mail', 'api', 'login', 'static', 'update', 'files', 'portal', 'secure', 'app', 'img', 'dl'];
const TLDS = ['com', 'net', 'org', 'io', 'top', 'xyz', 'ru', 'info'];
const EPOCH = 1_735_689_600;
const DAY = 86_400;

/** A public-looking IPv4 outside every range the reserved scheme uses. */
function publicIp(rng: SeededRandom): string {
  let first = rng.int(1, 223);
  if (first === 10 || first === 127 || first === 192 || first === 198 || first === 203 || first === 172 || first === 100) first = 45;
  return `${first}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function randomDomain(rng: SeededRandom): string {
  return `${rng.pick(WORDS)}${rng.int(1, 999)}.${rng.hex(6)}.${rng.pick(TLDS)}`;
}

function fileHash(rng: SeededRandom): string {
  const hash = rng.hex(64);
  // Never collide with the reserved scheme (00000000…).
  return hash.startsWith('00000000') ? `f${hash.slice(1)}` : hash;
}

/** How many items a relationship has: fixed by (seed, object, relationship), more for detected objects. */
function sizeOf(rng: SeededRandom, spec: RelationshipSpec, detected: boolean): number {
  if (spec.one) return 1;
  return detected ? rng.int(3, 45) : rng.int(0, 14);
}

/**
 * Every item of one relationship of one object, in a fixed order: a pure function of
 * (seed, kind, id, relationship), so pages and cursors are deterministic.
 */
export function relatedItems(seed: string, kind: ObjectKind, id: string, name: string, detected: boolean, subjectUrl?: string): RelatedItem[] {
  const spec = RELATIONSHIPS[kind][name];
  if (!spec) return [];
  const rng = new SeededRandom(digest(seed, 'relationship', kind, id, name));
  const count = sizeOf(rng, spec, detected);
  const items: RelatedItem[] = [];
  for (let i = 0; i < count; i++) {
    switch (spec.target) {
      case 'resolution': {
        const ip = kind === 'ip_address' ? id : publicIp(rng);
        const host = kind === 'domain' ? id : randomDomain(rng);
        items.push({ type: 'resolution', id: `${ip}${host}`, resolution: { ip, host, date: EPOCH - i * rng.int(1, 30) * DAY } });
        break;
      }
      case 'domain': {
        let domain = randomDomain(rng);
        if (name === 'subdomains' && kind === 'domain') domain = `${rng.pick(WORDS)}${i}.${id}`;
        if (name === 'siblings' && kind === 'domain') domain = `${rng.pick(WORDS)}${i}.${id.split('.').slice(1).join('.') || id}`;
        if (name === 'parent' && kind === 'domain') {
          const parent = id.split('.').slice(1).join('.');
          if (parent.split('.').length < 2) return [];
          domain = parent;
        }
        if (name === 'network_location' && kind === 'url') {
          // The URL's host: a domain, or an IP address (then the descriptor is an ip_address).
          const host = subjectUrl ? urlHost(subjectUrl) : null;
          if (!host) return [];
          items.push({ type: ipVersion(host) ? 'ip_address' : 'domain', id: host });
          break;
        }
        items.push({ type: 'domain', id: domain });
        break;
      }
      case 'ip_address':
        items.push({ type: 'ip_address', id: publicIp(rng) });
        break;
      case 'file':
        items.push({ type: 'file', id: fileHash(rng) });
        break;
      case 'url': {
        const url = `http://${randomDomain(rng)}/${rng.pick(['index.php', 'download/setup.exe', 'login', 'files/doc.zip', 'gate.php'])}`;
        items.push({ type: 'url', id: urlSha256(url), url });
        break;
      }
    }
  }
  return items;
}

/** The opaque cursor of a page offset: base64, like VirusTotal's (and never containing `-`, which vt-py's cursors use as a separator). */
export function encodeCursor(offset: number): string {
  return Buffer.from(`sim-offset:${offset}`, 'utf8').toString('base64');
}

/** The offset a cursor stands for; undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  const match = /^sim-offset:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}
