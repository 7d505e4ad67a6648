import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../contract/logger.js';
import type { FileCacheStore } from './file-cache-store.js';

/**
 * How often the file cache is swept of expired entries. Entries are also removed when read, but
 * a cache used for years of different observables would otherwise only grow.
 */
export const FILE_CACHE_PRUNE_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Its modification time is the last sweep; shared by every process using the directory. */
export const FILE_CACHE_PRUNE_STAMP = '.last-prune';

/**
 * Prunes the file cache when the last sweep (by any process) is older than a day. The stamp is
 * written first, so processes starting together do not all sweep. Never creates the directory.
 * @returns whether it swept.
 */
export async function pruneFileCacheIfDue(store: FileCacheStore, logger: Logger, now: number): Promise<boolean> {
  const stamp = join(store.dir, FILE_CACHE_PRUNE_STAMP);
  const last = await stat(stamp).then(
    (info) => info.mtimeMs,
    () => undefined,
  );
  if (last !== undefined && now - last < FILE_CACHE_PRUNE_INTERVAL_MS) return false;
  if (last === undefined && !(await stat(store.dir).then(() => true, () => false))) return false; // nothing cached yet
  await mkdir(store.dir, { recursive: true });
  await writeFile(stamp, `last pruned ${new Date(now).toISOString()}\n`);
  const { removed, kept } = await store.prune();
  logger.debug({ dir: store.dir, removed, kept }, 'file cache pruned of expired entries');
  return true;
}
