import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

/**
 * A V8 code cache for one classic script, kept between runs (issue 16: the bundled CLI's cold
 * start). Node 20 has no code cache for ES modules (`module.enableCompileCache` is Node 22+),
 * but `vm.Script` takes `cachedData`: with it V8 deserialises the compiled functions instead of
 * parsing and compiling the source again.
 *
 * The cache is a speed-up only. Any failure (no directory, read-only, full disk, a file from
 * another build, Node or V8 version, a damaged file) costs a slower start, never the run: nothing
 * here throws or prints.
 */
export interface CodeCacheOptions {
  /** The script's source. */
  source: string;
  /** Its path, for stack traces. */
  filename: string;
  /**
   * Changes whenever `source` does: the build's content hash. V8 checks a cache against its
   * script's length only, so a cache of another build of the same length would be accepted and
   * run the wrong code; the key keeps each build's caches apart.
   */
  key: string;
  /** Where cache files live; undefined turns the cache off (the script is compiled as usual). */
  dir: string | undefined;
  /**
   * A second part of the file name (the command that runs): V8 caches the functions a run
   * compiled, so `x-enrich --help` as the first run would leave `enrich` a cache without its
   * own code. Only a name from a fixed list, never user input, so the files stay few.
   */
  variant?: string;
}

export interface CachedScript {
  script: vm.Script;
  /** `hit`: compiled from the cache; `miss`: no usable cache (call `save`, see saveAtExitOrBeforeFlush); `off`: no directory. */
  cache: 'hit' | 'miss' | 'off';
  /** The cache file. */
  file?: string;
  /**
   * On a miss, writes the cache of everything V8 has compiled of the script so far (and still
   * holds: see SAVE_AFTER_MAJOR_GCS); a no-op otherwise, and after the first call. Never throws.
   * Called late, it includes the functions the run compiled lazily.
   */
  save(): void;
}

/** Cache files of other builds that stay (the most recent ones): a second install used in turn keeps its cache. */
const OTHER_BUILDS_KEPT = 2;
const SUFFIX = '.v8cache';
/** sha256 of the V8 data, before it: V8 checks a cache's header but not its payload (release builds), and a damaged payload crashes the process. */
const DIGEST_BYTES = 32;

const digest = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** The file name for this script, Node (V8 rejects another version's cache, but two Node versions would then overwrite each other) and variant. */
export function codeCacheFile(options: Pick<CodeCacheOptions, 'dir' | 'key' | 'variant'>): string | undefined {
  if (options.dir === undefined) return undefined;
  return join(options.dir, `${options.key}-${options.variant ?? 'default'}-v8-${process.versions.v8}-${process.arch}${SUFFIX}`);
}

function readCache(file: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length <= DIGEST_BYTES) return undefined;
  const payload = data.subarray(DIGEST_BYTES);
  return digest(payload).equals(data.subarray(0, DIGEST_BYTES)) ? payload : undefined;
}

/** Writes via a temporary file and a rename, so a reader never sees half a file and concurrent runs cannot mix theirs. */
function writeCache(file: string, dir: string, key: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, Buffer.concat([digest(data), data]), { mode: 0o600 });
    renameSync(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing written
    }
    throw error;
  }
  removeOtherBuilds(dir, key);
}

/** Caches of older builds would pile up with every rebuild or upgrade: keep this build's and the latest few others'. */
function removeOtherBuilds(dir: string, key: string): void {
  const builds = new Map<string, { mtimeMs: number; files: string[] }>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(SUFFIX) || name.startsWith(`${key}-`)) continue;
    const build = name.slice(0, name.indexOf('-'));
    const mtimeMs = statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const entry = builds.get(build) ?? { mtimeMs: 0, files: [] };
    entry.mtimeMs = Math.max(entry.mtimeMs, mtimeMs);
    entry.files.push(name);
    builds.set(build, entry);
  }
  const oldest = [...builds.values()].sort((a, b) => b.mtimeMs - a.mtimeMs).slice(OTHER_BUILDS_KEPT);
  for (const { files } of oldest) {
    for (const name of files) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // another run removed it
      }
    }
  }
}

const noop = (): void => undefined;

/**
 * A miss's cache is written at exit, or once the run has been through this many full (major)
 * garbage collections, whichever comes first. V8 flushes the bytecode of a function that has not
 * run during its last few full GCs (`--flush-bytecode`, on by default; `--bytecode-old-age=5`: in
 * V8 11.3 a function that ran before the first was flushed at the sixth, measured here), and
 * `createCachedData()` holds only functions that still have bytecode. So a cache written at exit
 * of a long first run (`serve` under load for a minute; for days, a fortiori) lacked the start-up
 * code every later start needs: `serve`'s shrank from 2.4 to 1.3 MB and its starts cost ~75 ms
 * more CPU, for good, since a hit never rewrites (docs/performance.md, "Cold start: what the
 * first run leaves"). A cached lookup has no full GC before exit, so it still writes at exit, with
 * everything it compiled (the cold-start bench's cache is unchanged); a first run of 10,000 misses
 * has one or two, so it writes at exit or near its end. At the second, a longer run has started
 * up and done some of its work (the first full GC can fall during start-up), and nothing can
 * have been flushed yet: that takes six. What such a cache lacks (the end of the run, e.g. the
 * shutdown of `serve`) is compiled when a start needs it: not measurable (3 runs of
 * bench/code-cache-first-run.mjs). Later (the fourth GC) or keeping the bytecode until exit
 * (`--no-flush-bytecode` set at run time, put back before writing) measured the same, with less
 * margin or a V8 flag changed under a running isolate, which Node documents as unsafe.
 */
export const SAVE_AFTER_MAJOR_GCS = 2;
/** `perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR`: read from the global observer's entries without loading `node:perf_hooks` on every start. */
const GC_MAJOR = 4;

/**
 * On a miss, writes the cache at exit or after `majorGcs` full GCs, whichever comes first (see
 * SAVE_AFTER_MAJOR_GCS); does nothing on a hit or with the cache off. The GC observer costs only
 * the first run, and is gone once the cache is written.
 */
export function saveAtExitOrBeforeFlush(cached: CachedScript, majorGcs = SAVE_AFTER_MAJOR_GCS): void {
  if (cached.cache !== 'miss') return;
  let seen = 0;
  // Node delivers GC entries on the next turn of the event loop, so a busy loop may see several at once.
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as { detail?: { kind?: number } }).detail?.kind === GC_MAJOR) seen += 1;
    if (seen >= majorGcs) save();
  });
  const save = (): void => {
    observer.disconnect();
    process.off('exit', save);
    cached.save();
  };
  process.once('exit', save);
  observer.observe({ entryTypes: ['gc'] });
}

/**
 * Compiles `source` with the cached code when there is a valid cache for this key (a damaged or
 * foreign file is rejected, by its digest or by V8, and counts as a miss). On a miss, `save()`
 * writes a new one: called late (saveAtExitOrBeforeFlush), V8 has compiled the functions the run
 * called by then (it compiles lazily) and the cache holds them too, which a cache taken right
 * after compiling would not (docs/performance.md measures both).
 */
export function compileWithCodeCache(options: CodeCacheOptions): CachedScript {
  const file = codeCacheFile(options);
  const cachedData = file === undefined ? undefined : readCache(file);
  const script = new vm.Script(options.source, { filename: options.filename, cachedData });
  if (file === undefined) return { script, cache: 'off', save: noop };
  if (cachedData !== undefined && !script.cachedDataRejected) return { script, cache: 'hit', file, save: noop };
  let saved = false;
  const save = (): void => {
    if (saved) return;
    saved = true;
    try {
      writeCache(file, options.dir!, options.key, script.createCachedData());
    } catch {
      // A cache is an optimisation: the next run compiles again.
    }
  };
  return { script, cache: 'miss', file, save };
}
