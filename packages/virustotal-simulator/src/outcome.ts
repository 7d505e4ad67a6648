import { MAX_TOTAL } from './engines.js';
import { ipv6Groups, ipVersion, urlHost, type ObjectKind } from './observables.js';
import { digest, SeededRandom } from './rng.js';

/** found: a report exists; not_found: VirusTotal has never seen it; queued: submitted, not analysed yet. */
export type OutcomeStatus = 'found' | 'not_found' | 'queued';

/**
 * What the simulator answers for one observable, in both API versions: v3 `malicious` and
 * `suspicious` counts among `total` engines; v2 `positives` = `malicious`, `total` = `total`.
 */
export interface Outcome {
  status: OutcomeStatus;
  malicious: number;
  suspicious: number;
  total: number;
  /** True when the value asked for this outcome (reserved scheme), false when the seed chose it. */
  reserved: boolean;
}

/** The observable types `observableFor` can produce. */
export type SimObservableType = 'ipv4' | 'ipv6' | 'domain' | 'url' | 'md5' | 'sha1' | 'sha256';

/** Default engine counts, as in recent real captures. */
export const DEFAULT_FILE_TOTAL = 76;
export const DEFAULT_URL_TOTAL = 94;

const found = (malicious: number, suspicious: number, total: number): Outcome => ({ status: 'found', malicious, suspicious, total, reserved: true });
const NOT_FOUND: Outcome = { status: 'not_found', malicious: 0, suspicious: 0, total: 0, reserved: true };
const QUEUED: Outcome = { status: 'queued', malicious: 0, suspicious: 0, total: 0, reserved: true };

/** The named presets under `.example`. */
const DOMAIN_PRESETS: Record<string, Outcome> = {
  clean: found(0, 0, DEFAULT_URL_TOTAL),
  suspicious: found(2, 3, DEFAULT_URL_TOTAL),
  malicious: found(60, 0, DEFAULT_URL_TOTAL),
  notfound: NOT_FOUND,
  queued: QUEUED,
};

function counted(malicious: number, suspicious: number, total: number): Outcome | undefined {
  if (!(total >= 1 && total <= MAX_TOTAL && malicious + suspicious <= total)) return undefined;
  return found(malicious, suspicious, total);
}

const COUNT_LABEL = /^(?:m-(\d{1,3})-)?(?:s-(\d{1,3})-)?of-(\d{1,3})$/;

function domainOutcome(domain: string): Outcome | undefined {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length < 2 || labels[labels.length - 1] !== 'example') return undefined;
  const name = labels[labels.length - 2] as string;
  const preset = DOMAIN_PRESETS[name];
  if (preset) return preset;
  const match = COUNT_LABEL.exec(name);
  if (!match) return undefined;
  return counted(Number(match[1] ?? 0), Number(match[2] ?? 0), Number(match[3]));
}

function ipOutcome(ip: string): Outcome | undefined {
  const version = ipVersion(ip);
  if (version === 4) {
    const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
    if (a === 192 && b === 0 && c === 2) return NOT_FOUND;
    if (a === 198 && b === 51 && c === 100) return DOMAIN_PRESETS.clean;
    if (a === 203 && b === 0 && c === 113) return DOMAIN_PRESETS.malicious;
    if (a === 198 && (b === 18 || b === 19)) {
      if (d === 0) return NOT_FOUND;
      return b === 18 ? counted(c, 0, d) : counted(0, c, d);
    }
    return undefined;
  }
  if (version === 6) {
    const groups = ipv6Groups(ip);
    if (groups[0] !== 0x2001 || groups[1] !== 0xdb8) return undefined;
    // Groups 3-5 are read as the decimal numbers their hex digits spell: 2001:db8:5:0:70:: is 5 of 70.
    const [m, s, t] = groups.slice(2, 5).map((group) => Number(group.toString(16)));
    if ([m, s, t].some((n) => n === undefined || Number.isNaN(n))) return undefined;
    if (t === 0) return NOT_FOUND;
    return counted(m as number, s as number, t as number);
  }
  return undefined;
}

const FILE_PREFIX = /^00000000([012])(\d{3})(\d{3})(\d{3})/;

function fileOutcome(hash: string): Outcome | undefined {
  const match = FILE_PREFIX.exec(hash);
  if (!match) return undefined;
  if (match[1] === '0') return NOT_FOUND;
  if (match[1] === '2') return QUEUED;
  return counted(Number(match[2]), Number(match[3]), Number(match[4]));
}

/**
 * The outcome the reserved scheme asks for, or undefined when the value is not reserved.
 * Domains and IPs are never queued on VirusTotal: a queued preset is served as not found for them.
 */
export function reservedOutcome(kind: ObjectKind, value: string): Outcome | undefined {
  switch (kind) {
    case 'file':
      return fileOutcome(value.toLowerCase());
    case 'ip_address':
      return ipOutcome(value);
    case 'domain': {
      const outcome = domainOutcome(value);
      return outcome?.status === 'queued' ? NOT_FOUND : outcome;
    }
    case 'url': {
      const host = urlHost(value);
      if (host === null) return undefined;
      return ipVersion(host) ? ipOutcome(host) : domainOutcome(host);
    }
  }
}

/**
 * The seeded "realistic mix": mostly clean, some with a few detections, some suspicious, some
 * malicious at every v2 infection-rate band, some not found and (files and URLs) a few queued.
 */
export function seededOutcome(seed: string, kind: ObjectKind, identity: string): Outcome {
  const rng = new SeededRandom(digest(seed, 'outcome', kind, identity));
  const total = kind === 'file' ? rng.int(68, DEFAULT_FILE_TOTAL) : rng.int(88, DEFAULT_URL_TOTAL);
  const roll = rng.next();
  const infrastructure = kind === 'domain' || kind === 'ip_address';
  const make = (malicious: number, suspicious = 0): Outcome => ({ status: 'found', malicious, suspicious, total, reserved: false });
  const notFoundShare = kind === 'file' ? 0.08 : kind === 'url' ? 0.06 : 0.04;
  const queuedShare = infrastructure ? 0 : 0.02;
  let edge = notFoundShare;
  if (roll < edge) return { status: 'not_found', malicious: 0, suspicious: 0, total: 0, reserved: false };
  if (roll < (edge += queuedShare)) return { status: 'queued', malicious: 0, suspicious: 0, total: 0, reserved: false };
  if (roll < (edge += 0.6)) return make(0);
  if (roll < (edge += 0.08)) return make(rng.int(1, 4), rng.int(0, 2));
  if (roll < (edge += 0.05)) return make(0, rng.int(3, 6));
  if (roll < (edge += 0.06)) return make(rng.int(5, Math.floor(total * 0.32)), rng.int(0, 2));
  if (roll < (edge += 0.05)) return make(rng.int(Math.ceil(total * 0.34), Math.floor(total * 0.65)), rng.int(0, 2));
  return make(rng.int(Math.ceil(total * 0.67), Math.floor(total * 0.95)), rng.int(0, 1));
}

/** The reserved outcome when the value asks for one, else the seeded mix for `identity`. */
export function outcomeFor(seed: string, kind: ObjectKind, value: string, identity: string): Outcome {
  return reservedOutcome(kind, value) ?? seededOutcome(seed, kind, identity);
}

/** What `observableFor` is asked for. Counts default to 0; `total` to 76 for hashes and 94 otherwise. */
export interface OutcomeRequest {
  type: SimObservableType;
  status?: OutcomeStatus;
  malicious?: number;
  suspicious?: number;
  total?: number;
  /** Makes distinct observables with the same outcome (e.g. to defeat a cache); ignored for IPv4. */
  variant?: number;
}

function countLabel(malicious: number, suspicious: number, total: number): string {
  return `${malicious > 0 ? `m-${malicious}-` : ''}${suspicious > 0 ? `s-${suspicious}-` : ''}of-${total}`;
}

/**
 * An observable value that the simulator answers with the requested outcome, e.g.
 * `observableFor({ type: 'ipv4', malicious: 5, total: 70 })` -> `198.18.5.70`.
 * Throws a RangeError naming the limit when the outcome cannot be expressed for that type.
 */
export function observableFor(request: OutcomeRequest): string {
  const { type, status = 'found', malicious = 0, suspicious = 0, variant = 0 } = request;
  const isHash = type === 'md5' || type === 'sha1' || type === 'sha256';
  const total = request.total ?? (isHash ? DEFAULT_FILE_TOTAL : DEFAULT_URL_TOTAL);
  const fail = (why: string): never => {
    throw new RangeError(`observableFor(${JSON.stringify(request)}): ${why}`);
  };
  if (![malicious, suspicious, total, variant].every((n) => Number.isInteger(n) && n >= 0)) fail('counts and variant must be non-negative integers');
  if (status === 'found' && (total < 1 || total > MAX_TOTAL || malicious + suspicious > total)) {
    fail(`need 1 <= total <= ${MAX_TOTAL} and malicious + suspicious <= total`);
  }
  if (status === 'queued' && (type === 'domain' || type === 'ipv4' || type === 'ipv6')) fail('VirusTotal never queues domain or IP reports');

  switch (type) {
    case 'md5':
    case 'sha1':
    case 'sha256': {
      const length = type === 'md5' ? 32 : type === 'sha1' ? 40 : 64;
      const code = status === 'not_found' ? '0' : status === 'queued' ? '2' : '1';
      const counts = status === 'found' ? [malicious, suspicious, total].map((n) => String(n).padStart(3, '0')).join('') : '000000000';
      const head = `00000000${code}${counts}`;
      return head + variant.toString(16).padStart(length - head.length, '0');
    }
    case 'domain':
    case 'url': {
      const name = status === 'not_found' ? 'notfound' : status === 'queued' ? 'queued' : countLabel(malicious, suspicious, total);
      const host = `${variant > 0 ? `v${variant}.` : ''}${name}.example`;
      return type === 'domain' ? host : `http://${host}/`;
    }
    case 'ipv4': {
      if (status === 'not_found') return `192.0.2.${variant % 256}`;
      if (malicious > 0 && suspicious > 0) fail('an IPv4 address encodes malicious or suspicious, not both: use ipv6');
      if (total > 255) fail('total must be <= 255 for IPv4');
      return suspicious > 0 ? `198.19.${suspicious}.${total}` : `198.18.${malicious}.${total}`;
    }
    case 'ipv6': {
      if (status === 'not_found') return `2001:db8::${variant.toString(16)}`;
      return `2001:db8:${malicious}:${suspicious}:${total}::${variant.toString(16)}`;
    }
  }
}

/** Names of the outcomes `outcomeObservables` returns. */
export type OutcomeName =
  | 'clean'
  | 'malicious1'
  | 'malicious4'
  | 'malicious5'
  | 'suspicious3'
  | 'heavy'
  | 'rateBelow33'
  | 'rate33'
  | 'rateBetween'
  | 'rate66'
  | 'rateAbove66'
  | 'notFound'
  | 'queued';

/** The outcome behind each name (v3 counts; v2 positives/total are malicious/total). */
export const OUTCOME_TABLE: Record<OutcomeName, Omit<OutcomeRequest, 'type'>> = {
  clean: { malicious: 0 },
  malicious1: { malicious: 1 },
  malicious4: { malicious: 4 },
  malicious5: { malicious: 5 },
  suspicious3: { suspicious: 3 },
  heavy: { malicious: 65, total: 71 },
  rateBelow33: { malicious: 32, total: 100 },
  rate33: { malicious: 33, total: 100 },
  rateBetween: { malicious: 50, total: 100 },
  rate66: { malicious: 66, total: 100 },
  rateAbove66: { malicious: 67, total: 100 },
  notFound: { status: 'not_found' },
  queued: { status: 'queued' },
};

/**
 * One observable of `type` per named outcome, covering every threshold the VirusTotal
 * providers use (v3 malicious 0 / 1-4 / >=5 and suspicious >=3; v2 rates below, at and between
 * 33% and 66%). `queued` is absent for domains and IPs, which VirusTotal never queues.
 */
export function outcomeObservables(type: SimObservableType, variant = 0): Partial<Record<OutcomeName, string>> {
  const out: Partial<Record<OutcomeName, string>> = {};
  for (const [name, request] of Object.entries(OUTCOME_TABLE) as Array<[OutcomeName, Omit<OutcomeRequest, 'type'>]>) {
    if (name === 'queued' && (type === 'domain' || type === 'ipv4' || type === 'ipv6')) continue;
    out[name] = observableFor({ type, variant, ...request });
  }
  return out;
}
