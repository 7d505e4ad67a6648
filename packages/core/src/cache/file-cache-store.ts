import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../contract/tokens.js';
import type { CacheEntry, CacheStore } from '../contract/cache-store.js';
import { FILE_CACHE_MEMORY_BYTES } from '../config/config-schema.js';

// The default lives with the config schema, which documents it; re-exported for hosts.
export { FILE_CACHE_MEMORY_BYTES };

export interface FileCacheStoreOptions {
  /**
   * Directory holding one JSON file per key, and the writers' temporary files in its
   * `FILE_CACHE_TEMP_DIR` subdirectory; both created on first write.
   */
  dir: string;
  /**
   * Memory cap of the LRU in front of the files, in bytes of entry JSON (≈ heap bytes; see
   * FILE_CACHE_MEMORY_BYTES, the default: 64 MiB). The least recently used entries leave first;
   * an entry larger than the cap is served from its file only. 0 turns the memory layer off.
   */
  maxMemoryBytes?: number;
  /** An additional bound on the entries kept in memory (none by default: bytes bound the layer). */
  maxEntries?: number;
  clock?: Clock;
}

/** What `prune()` did. */
export interface FileCachePruneResult {
  /** Expired entries and abandoned temporary files removed. */
  removed: number;
  /** Entries still valid. */
  kept: number;
}

/** A `CacheStore` on files, with `prune()` to remove expired entries nobody read again. */
export interface FileCacheStore extends CacheStore {
  readonly dir: string;
  /**
   * Removes expired entries without reading them (their modification time is their expiry)
   * and temporary files abandoned for over an hour by a crashed writer: in the temporary
   * directory, and those older versions left beside the entries. Safe while other processes
   * use the directory: a valid entry is never removed.
   */
  prune(): Promise<FileCachePruneResult>;
  /**
   * Removes the temporary files of writers that are gone (killed mid-write): those named by a
   * process id that no longer runs on this machine. Cheap: it lists the temporary directory
   * only (`FILE_CACHE_TEMP_DIR`, usually empty), never the entries, so the CLI runs it at every
   * start. Temporary files older versions left beside the entries wait for `prune()`. Returns
   * how many it removed.
   */
  removeAbandonedTemps(): Promise<number>;
}

/**
 * The subdirectory of the cache directory where writers put their temporary files. Not the cache
 * directory itself: finding the temporary files of killed writers at every start would then list
 * every entry (30,000 entries: ~50 ms of CPU per start; docs/performance.md). A subdirectory stays
 * on the same filesystem, so the rename into place stays atomic.
 */
export const FILE_CACHE_TEMP_DIR = 'tmp';

/** The writer's process id in a temporary file's name (`<sha>.json.<pid>.<hex>.tmp`). */
const TEMP_NAME = /\.json\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Whether a process with this id runs (on this machine; a cache directory is local). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A writer that left its temporary file this long ago has crashed (writes take milliseconds). */
const ABANDONED_TEMP_MS = 60 * 60 * 1000;

interface FileBody {
  key: string;
  entry: CacheEntry;
}

function isFileBody(value: unknown): value is FileBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Partial<FileBody>;
  return typeof body.key === 'string' && typeof body.entry === 'object' && body.entry !== null
    && typeof body.entry.storedAt === 'number' && typeof body.entry.expiresAt === 'number';
}

/**
 * A persistent `CacheStore` for the CLI: one JSON file per key (named by the key's sha256, so
 * keys never become paths), readable by the user only (directories 0700, files 0600), written
 * atomically (a temporary file in `FILE_CACHE_TEMP_DIR`, then a rename) so a crash or a second
 * process never leaves a half-written entry. An LRU in front serves repeated reads from memory.
 * Expired entries are removed when read; unreadable or corrupt files are ignored and removed.
 * Each file's modification time is set to its entry's expiry, so `prune()` finds expired
 * entries with one `stat` each instead of reading and parsing every file.
 */
export function createFileCacheStore(options: FileCacheStoreOptions): FileCacheStore {
  const clock = options.clock ?? systemClock;
  const maxMemoryBytes = options.maxMemoryBytes ?? FILE_CACHE_MEMORY_BYTES;
  // Sized by each entry's JSON length, known at no cost: the file's text on a read, the body
  // written on a set. (An entry count bounded memory poorly and, at 2,000, made a warm re-run of
  // a feed over 10,000 observables read every file again for each repeat: see docs/performance.md.)
  const lru =
    maxMemoryBytes > 0
      ? new LRUCache<string, CacheEntry>({ maxSize: maxMemoryBytes, ...(options.maxEntries ? { max: options.maxEntries } : {}) })
      : undefined;
  const remember = (key: string, entry: CacheEntry, size: number): void => {
    lru?.set(key, entry, { size: Math.max(1, size) });
  };
  const tempDir = join(options.dir, FILE_CACHE_TEMP_DIR);
  // Creates the cache directory too; recursive mkdir gives each directory it creates the mode.
  const makeDirs = (): Promise<unknown> => mkdir(tempDir, { recursive: true, mode: 0o700 });
  let dirsReady: Promise<unknown> | undefined;
  const fileFor = (key: string): string => join(options.dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  const remove = (file: string): Promise<void> => unlink(file).catch(() => undefined);
  const list = (dir: string): Promise<string[] | undefined> => readdir(dir).catch(() => undefined);
  /**
   * Removes, in sequential batches (a cache directory can hold hundreds of thousands of files),
   * expired entries and temporary files a writer abandoned over an hour ago; counts them.
   */
  const sweep = async (dir: string, names: string[], now: number, result: FileCachePruneResult): Promise<void> => {
    for (let start = 0; start < names.length; start += 256) {
      await Promise.all(
        names.slice(start, start + 256).map(async (name) => {
          const isEntry = name.endsWith('.json');
          if (!isEntry && !name.endsWith('.tmp')) return;
          const file = join(dir, name);
          const info = await stat(file).catch(() => undefined);
          if (!info) return; // removed meanwhile
          const expired = isEntry ? info.mtimeMs <= now : now - info.ctimeMs > ABANDONED_TEMP_MS;
          if (!expired) {
            if (isEntry) result.kept += 1;
            return;
          }
          // The LRU may still hold it; get() checks expiry there too.
          await remove(file);
          result.removed += 1;
        }),
      );
    }
  };

  return {
    dir: options.dir,

    async get<T>(key: string) {
      const now = clock.now();
      const cached = lru?.get(key);
      if (cached) {
        if (cached.expiresAt > now) return cached as CacheEntry<T>;
        lru?.delete(key);
        await remove(fileFor(key));
        return undefined;
      }
      const file = fileFor(key);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        return undefined; // a miss
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!isFileBody(body) || body.key !== key) {
        await remove(file);
        return undefined;
      }
      if (body.entry.expiresAt <= now) {
        await remove(file);
        return undefined;
      }
      remember(key, body.entry, text.length);
      return body.entry as CacheEntry<T>;
    },

    async set<T>(key: string, entry: CacheEntry<T>) {
      // Private to the user: which indicators an analyst looked up is sensitive.
      dirsReady ??= makeDirs();
      await dirsReady;
      const file = fileFor(key);
      const temp = join(tempDir, `${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const body: FileBody = { key, entry: entry as CacheEntry };
      const text = JSON.stringify(body);
      try {
        await writeFile(temp, text, { mode: 0o600 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // The directory went while this process runs (someone removed `tmp/`, or the whole
        // cache, under a running `serve`): make it again rather than fail every later write.
        await (dirsReady = makeDirs());
        await writeFile(temp, text, { mode: 0o600 });
      }
      try {
        const expires = new Date(entry.expiresAt);
        await utimes(temp, expires, expires);
        await rename(temp, file);
      } catch (error) {
        await remove(temp);
        throw error;
      }
      remember(key, entry as CacheEntry, text.length);
    },

    async delete(key: string) {
      lru?.delete(key);
      await remove(fileFor(key));
    },

    async clear() {
      lru?.clear();
      // The temporary directory itself stays: another process may be about to write into it.
      // `.tmp` beside the entries: left by older versions, which wrote their temporary files there.
      for (const dir of [options.dir, tempDir]) {
        const names = (await list(dir)) ?? [];
        await Promise.all(names.filter((name) => name.endsWith('.json') || name.endsWith('.tmp')).map((name) => rm(join(dir, name), { force: true })));
      }
    },

    async removeAbandonedTemps() {
      const names = (await list(tempDir)) ?? [];
      const abandoned = names.filter((name) => {
        const pid = TEMP_NAME.exec(name)?.[1];
        return pid !== undefined && !processAlive(Number(pid));
      });
      await Promise.all(abandoned.map((name) => rm(join(tempDir, name), { force: true })));
      return abandoned.length;
    },

    async prune() {
      const names = await list(options.dir);
      if (!names) return { removed: 0, kept: 0 };
      const now = clock.now();
      const result: FileCachePruneResult = { removed: 0, kept: 0 };
      // Beside the entries, `.tmp` files are those of older versions' writers.
      await sweep(options.dir, names, now, result);
      await sweep(tempDir, ((await list(tempDir)) ?? []).filter((name) => name.endsWith('.tmp')), now, result);
      return result;
    },
  };
}
