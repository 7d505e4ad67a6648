import type { AddressInfo } from 'node:net';
import { UsageError } from '../usage-error.js';

/** `http://127.0.0.1:8080`, `http://[::1]:8080`: an address a client can paste. */
export function addressUrl(address: Pick<AddressInfo, 'address' | 'family' | 'port'>): string {
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** What a wildcard address means for who can connect. */
const WILDCARDS: Record<string, string> = { '0.0.0.0': 'all IPv4 interfaces', '::': 'all interfaces' };

/**
 * The addresses the service is actually bound to, for the `listening on ...` line: the first
 * is the main one (tests and scripts read it), `localhost` also binds ::1, and a wildcard says
 * that it listens on every interface rather than naming one address it happens to answer on.
 */
export function describeListening(addresses: ReadonlyArray<Pick<AddressInfo, 'address' | 'family' | 'port'>>): string {
  return addresses
    .map((address) => {
      const wildcard = WILDCARDS[address.address];
      return wildcard ? `${addressUrl(address)} (${wildcard})` : addressUrl(address);
    })
    .join(' and ');
}

/** Loopback only: nobody else on the network can reach these. */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}

/**
 * A listen failure the operator can fix (the port is taken, the address is not this machine's,
 * no permission) as one line naming host:port and what to do; undefined for anything else,
 * which stays an unexpected error.
 */
export function listenError(error: unknown, host: string, port: number): UsageError | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new UsageError(
        `serve: cannot listen on ${where}: the port is already in use (another x-enrich serve, or another service). Stop it, or pick another port with --port or server.port (0 picks a free one).`,
      );
    case 'EADDRNOTAVAIL':
      return new UsageError(
        `serve: cannot listen on ${where}: ${host} is not an address of this machine. Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its own addresses, with --host or server.host.`,
      );
    case 'EACCES':
      return new UsageError(
        `serve: cannot listen on ${where}: permission denied (ports below 1024 need privileges). Use a port of 1024 or more with --port or server.port, and put a proxy in front if it must be ${port}.`,
      );
    case 'ENOTFOUND':
      return new UsageError(`serve: cannot listen on ${where}: the host name ${host} does not resolve. Give an IP address with --host or server.host.`);
    default:
      return undefined;
  }
}
