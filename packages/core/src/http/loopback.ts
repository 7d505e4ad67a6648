/**
 * `localhost`, `127.0.0.0/8` and `::1` (as `URL.hostname` spells it: `[::1]`), case-insensitive:
 * the hosts where a provider may accept plain http for its base URL (the simulator, a local
 * proxy, a test upstream), since no network hop can read a key sent there. One definition for
 * every provider, so they agree on what "loopback" means.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}
