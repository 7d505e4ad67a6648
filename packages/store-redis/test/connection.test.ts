import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StallTolerantRedis, connectionOptions } from '../src/connection.js';
import { SHARED_REDIS_URL, sharedRedisAvailable } from './helpers/redis.js';

const available = await sharedRedisAvailable();
const TIMEOUT_MS = 50;

/** Blocks this process (no timers, no I/O) until `until` returns true, as a starved process would be. */
function stall(until: () => boolean): void {
  while (!until());
}

describe('the command timeout', () => {
  const clients: StallTolerantRedis[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const server of servers.splice(0)) server.close();
  });

  async function connect(url: string, options = {}): Promise<StallTolerantRedis> {
    const settings = { url, connectTimeoutMs: 2_000, commandTimeoutMs: TIMEOUT_MS };
    // No auto-pipelining: the command is written at once, so the stall below starts after Redis has it.
    const client = new StallTolerantRedis(url, { ...connectionOptions(settings), enableAutoPipelining: false, ...options }, TIMEOUT_MS);
    client.on('error', () => undefined);
    clients.push(client);
    await once(client, 'ready');
    return client;
  }

  it.skipIf(!available)('answers a command whose reply arrived while this process was stalled past the timeout', async () => {
    const client = await connect(SHARED_REDIS_URL);
    const sentAt = Date.now();
    const reply = client.ping();
    // While this process is blocked, another client's PING is answered: Redis handles its
    // clients in order, so our PING (written before that client connected) was answered first.
    const { hostname, port } = new URL(SHARED_REDIS_URL);
    const other = spawnSync(process.execPath, ['-e', `const s = require('node:net').connect(${Number(port || 6379)}, '${hostname}', () => s.write('PING\\r\\n')); s.on('data', () => process.exit(0));`], { timeout: 30_000 });
    expect(other.status).toBe(0);
    stall(() => Date.now() >= sentAt + 2 * TIMEOUT_MS); // the deadline passed while we were not looking
    // ioredis's own commandTimeout rejects here with "Command timed out": its timer runs before the reply is read.
    expect(await reply).toBe('PONG');
  });

  it('still times out a command that a server never answers', async () => {
    // Accepts connections and reads commands, but never replies (a frozen server).
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket.on('data', () => undefined)));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = await connect(`redis://127.0.0.1:${port}`, { enableReadyCheck: false });
    await expect(client.ping()).rejects.toThrow('Command timed out');
    for (const socket of sockets) socket.destroy();
  });
});
