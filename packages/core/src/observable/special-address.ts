import ipaddr from 'ipaddr.js';
import type { Observable } from '../contract/observable-type.js';

/**
 * Address ranges that never mean anything to an intel provider: a lookup would spend quota (and
 * tell a third party about the inside of your network) for a guaranteed "not found". ipaddr.js
 * (a small, dependency-free and widely used parser) names the IANA special-purpose ranges; these
 * are the ones that are local to a host, a link or a site. Documentation ranges (192.0.2.0/24,
 * 2001:db8::/32) are not in this list: they are not private, and the simulator uses them.
 */
const SPECIAL_RANGES: Record<string, string> = {
  private: 'a private address (RFC 1918)',
  uniqueLocal: 'a unique local address (RFC 4193, private IPv6)',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  carrierGradeNat: 'a shared address (RFC 6598, carrier-grade NAT)',
};

/** First octets of the IPv4 ranges above: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 224/4, 255.255.255.255. */
const SPECIAL_FIRST_OCTETS = new Set([0, 10, 100, 127, 169, 172, 192, ...Array.from({ length: 16 }, (_, i) => 224 + i), 255]);

export interface SpecialAddress {
  /** ipaddr.js's name of the range, e.g. `private`, `loopback`, `linkLocal`. */
  readonly range: string;
  /** For people: `a private address (RFC 1918)`. */
  readonly description: string;
}

/**
 * The special range an IP observable falls in, or undefined for a public address (and for every
 * other observable type). An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is judged by its IPv4 address.
 */
export function specialAddress(observable: Observable): SpecialAddress | undefined {
  if (observable.type !== 'ipv4' && observable.type !== 'ipv6') return undefined;
  // Every lookup asks, so most public IPv4 addresses are let through on their first octet alone
  // (a normalized IPv4 is plain dotted decimal); parsing each with ipaddr.js was a fifth of the
  // engine's cache-hit time. The octets that can start a special range go on to ipaddr.js.
  if (observable.type === 'ipv4' && !SPECIAL_FIRST_OCTETS.has(Number.parseInt(observable.value, 10))) return undefined;
  if (!ipaddr.isValid(observable.value)) return undefined;
  let address = ipaddr.parse(observable.value);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const range = address.range();
  const description = SPECIAL_RANGES[range];
  return description ? { range, description } : undefined;
}
