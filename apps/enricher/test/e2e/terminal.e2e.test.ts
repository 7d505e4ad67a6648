import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, assertBuilt, tempDir } from '../helpers/cli.js';
import { assertScript, runInPty, screenOf, widest, type PtyRun } from '../helpers/pty.js';

// The built CLI on a real pseudo-terminal, its final screen read through a terminal emulator:
// what a person sees, including the progress bar's comings and goings.

const BAR = /\| ETA |quota wait|[█░]/;
const HASH = `${'0'.repeat(8)}10${'0'.repeat(54)}`;

/** The test's gate: each lookup waits here until the test releases it. */
function gate() {
  const waiting = new Map<string, ServerResponse>();
  const arrived: string[] = [];
  const listeners = new Set<() => void>();
  const server = createServer((request, response) => {
    const value = new URL(request.url ?? '/', 'http://gate').searchParams.get('value') ?? '';
    arrived.push(value);
    waiting.set(value, response);
    for (const listener of listeners) listener();
  });
  return {
    arrived,
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    },
    /** Resolves once `count` lookups have arrived. */
    arrivals(count: number) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (arrived.length < count) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      });
    },
    release(verdict = 'benign') {
      for (const [value, response] of waiting) {
        response.end(value.startsWith('evil') ? 'malicious' : verdict);
        waiting.delete(value);
      }
    },
    /** From now on every lookup is answered at once. */
    open() {
      listeners.add(() => this.release());
      this.release();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  assertScript();
  tmp = await tempDir('x-enrich-pty-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

async function gatedConfig(name: string, gateUrl: string, warnOn: string[] = []): Promise<string> {
  const plugin = relative(tmp.dir, join(APP_DIR, 'test', 'fixtures', 'provider-gated'));
  return tmp.write(
    name,
    `providers:\n  gated:\n    use: "${plugin}"\n    options: { gateUrl: "${gateUrl}", warnOn: ${JSON.stringify(warnOn)} }\n    rateLimit: false\nconcurrency: 2\n`,
  );
}

const OBSERVABLES = ['evil.example', HASH, 'https://a-rather-long-host-name.example/with/a/long/path?and=query&more=things', '198.51.100.7', 'good.example'];

type Gate = ReturnType<typeof gate>;

/**
 * `x-enrich ARGS` on a pty of `cols` x `rows` against a gated provider: `drive` acts while it runs
 * (release lookups, type Ctrl-C, resize); then the exit code is checked, the final screen read
 * and no bar text may be left on it.
 */
async function session(
  name: string,
  args: readonly string[],
  options: { cols: number; rows?: number; warnOn?: string[]; code?: number },
  drive: (run: PtyRun, g: Gate) => Promise<void>,
): Promise<{ lines: string[]; cursorX: number; run: PtyRun }> {
  const g = gate();
  const config = await gatedConfig(`${name}.yaml`, await g.listen(), options.warnOn);
  const rows = options.rows ?? 30;
  const run = runInPty(['--config', config, 'enrich', '--no-cache', ...args], { cols: options.cols, rows, cwd: tmp.dir });
  try {
    await drive(run, g);
    expect(await run.exited).toBe(options.code ?? 0);
  } finally {
    await g.close();
  }
  const screen = await screenOf(run.raw(), options.cols, rows);
  expect(screen.lines.join('\n')).not.toMatch(BAR);
  return { ...screen, run };
}

/** Waits for the bar with two lookups at the gate. */
async function barUp(run: PtyRun, g: Gate, also?: string): Promise<void> {
  await g.arrivals(2);
  await run.until((raw) => raw.includes('ETA') && (!also || raw.includes(also)), also ? `the bar and ${also}` : 'the bar');
}

/** Lets the first two lookups finish (the next two start only once those were taken from the stream), then Ctrl-C. */
async function ctrlCAfterTwo(run: PtyRun, g: Gate): Promise<void> {
  await g.arrivals(2);
  g.release();
  await g.arrivals(4);
  run.type('\x03');
}

const firstCells = (rows: readonly string[]) => rows.map((row) => row.split(/\s+/)[0]);

describe('enrich on a terminal', () => {
  it('table with the bar and warnings mid-run: warnings above the bar, then the table, then the summary, no bar left', async () => {
    const cols = 120;
    const { lines, cursorX } = await session('table', OBSERVABLES, { cols, warnOn: ['evil.example'] }, async (run, g) => {
      // The bar is up and two lookups wait at the gate; the warning was logged meanwhile.
      await barUp(run, g, 'test warning');
      g.open();
    });
    const warning = lines.findIndex((line) => line.includes('test warning'));
    const header = lines.findIndex((line) => line.startsWith('OBSERVABLE'));
    const summary = lines.findIndex((line) => line.startsWith('x-enrich: 5 observables in'));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(lines[warning]).toBe('x-enrich warn: upstream slow for evil.example, retrying (test warning) [X_TEST_WARNING] (provider=gated, observable=evil.example)');
    expect(header).toBeGreaterThan(warning);
    expect(summary).toBeGreaterThan(header);
    // Rows in input order, one line each (nothing wrapped), long ones shortened in the middle.
    const rows = lines.slice(header + 1, header + 6);
    expect(firstCells(rows)).toEqual(['evil.example', expect.stringMatching(/^0000000010\d*…0+$/), expect.stringMatching(/^https:\/\/a-rather-lo.*….*things$/), '198.51.100.7', 'good.example']);
    expect(lines[header]).not.toContain('CONF');
    expect(lines[header]).not.toContain('CACHE');
    expect(widest(lines.slice(header, header + 6))).toBeLessThan(cols);
    expect(lines[header + 7]).toBe('5 observables: 1 malicious, 0 suspicious, 4 benign, 0 unknown; 0 failed lookups');
    // The summary is the last line, and the cursor waits at the start of the next: the prompt's place.
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe(lines[summary]);
    expect(cursorX).toBe(0);
  });

  it('without the bar (--no-progress): the warning, the table and the summary, in that order, nothing else drawn', async () => {
    const { lines, run } = await session('no-bar', ['--no-progress', ...OBSERVABLES], { cols: 120, warnOn: ['good.example'] }, async (_run, g) => g.open());
    expect(run.raw()).not.toContain('\x1b[?25l');
    const warning = lines.findIndex((line) => line.includes('test warning'));
    const header = lines.findIndex((line) => line.startsWith('OBSERVABLE'));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(header).toBeGreaterThan(warning);
    expect(lines.at(-2)).toMatch(/^x-enrich: 5 observables in /);
  });

  it.each(['jsonl', 'csv'] as const)('%s to the terminal: every record on a line of its own, the bar cleared before each', async (format) => {
    const { lines } = await session(format, ['-f', format, ...OBSERVABLES], { cols: 100, warnOn: [HASH] }, async (run, g) => {
      await barUp(run, g);
      // Release one at a time: records reach the terminal while the bar is up.
      for (let released = 1; released <= OBSERVABLES.length; released++) {
        await g.arrivals(released);
        g.release();
      }
    });
    const records = lines.filter((line) => line.startsWith('{') || /^(evil|0000|https|198|good)/.test(line) || line.startsWith('"'));
    if (format === 'jsonl') {
      expect(records.map((line) => (JSON.parse(line) as { input: string }).input)).toEqual(OBSERVABLES);
    } else {
      expect(lines.some((line) => line.startsWith('input,'))).toBe(true);
      expect(records).toHaveLength(OBSERVABLES.length);
    }
    expect(lines.at(-2)).toMatch(/^x-enrich: 5 observables in /);
  });

  it('Ctrl-C mid-run: the table of what finished, the interrupted summary, exit 130, no bar left', async () => {
    const { lines } = await session('ctrl-c', OBSERVABLES, { cols: 120, code: 130 }, async (run, g) => {
      await barUp(run, g);
      await ctrlCAfterTwo(run, g);
    });
    const header = lines.findIndex((line) => line.startsWith('OBSERVABLE'));
    expect(firstCells(lines.slice(header + 1, header + 3))).toEqual(['evil.example', expect.stringMatching(/^0000000010/)]);
    expect(lines).toContain('2 observables: 1 malicious, 0 suspicious, 1 benign, 0 unknown; 0 failed lookups (interrupted)');
    expect(lines.at(-2)).toMatch(/^x-enrich: interrupted after 2 of 5 observables/);
  });

  it('Ctrl-C with -o FILE: no FILE, the document so far (closed, valid) in FILE.partial, no temporary file', async () => {
    const out = join(tmp.dir, 'interrupted.json');
    const { lines } = await session('ctrl-c-output', ['-f', 'json', '-o', out, ...OBSERVABLES], { cols: 120, code: 130 }, ctrlCAfterTwo);
    const names = await readdir(tmp.dir);
    expect(names).not.toContain('interrupted.json');
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const document = JSON.parse(await readFile(`${out}.partial`, 'utf8')) as { interrupted: boolean; summaries: unknown[] };
    expect(document).toMatchObject({ interrupted: true });
    expect(document.summaries).toHaveLength(2);
    expect(lines.join('\n')).toContain(`the output so far (a complete document) is in ${out}.partial`);
  });

  it('a terminal resized mid-run (SIGWINCH) gets a table that fits its new width', async () => {
    const { lines } = await session('winch', OBSERVABLES, { cols: 150 }, async (run, g) => {
      await barUp(run, g);
      const before = run.raw().length;
      await run.resize(72, 30);
      // The bar redraws at the new width at once (cut with …): the program has seen the resize.
      await run.until((raw) => raw.slice(before).includes('…'), 'the bar redrawn narrower');
      g.open();
    });
    const header = lines.findIndex((line) => line.startsWith('OBSERVABLE'));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(widest(lines.slice(header, header + 6))).toBeLessThan(72);
  });

  it('-o FILE: the bar and the summary on the terminal, the document in the file, no temporary file left', async () => {
    const out = join(tmp.dir, 'out.csv');
    const { lines } = await session('output', ['-f', 'csv', '-o', out, ...OBSERVABLES], { cols: 100 }, async (_run, g) => g.open());
    expect(lines.filter(Boolean)).toEqual([expect.stringMatching(/^x-enrich: 5 observables in /)]);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(OBSERVABLES.length + 1);
    expect((await readdir(tmp.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('demo on a terminal', () => {
  it('says the data is synthetic first, then the table, then what to do next', async () => {
    const run = runInPty(['demo'], { cols: 160, rows: 40, cwd: tmp.dir });
    expect(await run.exited).toBe(0);
    const { lines } = await screenOf(run.raw(), 160, 40);
    expect(lines[0]).toMatch(/^x-enrich demo: SYNTHETIC data, made up by the VirusTotal simulator/);
    expect(lines.join('\n')).not.toMatch(BAR);
    const header = lines.findIndex((line) => line.startsWith('OBSERVABLE'));
    const next = lines.findIndex((line) => line.startsWith('Where to go next'));
    expect(header).toBeGreaterThan(0);
    expect(next).toBeGreaterThan(header);
    expect(widest(lines.slice(header, next))).toBeLessThan(160);
    expect(lines.join('\n')).toMatch(/0000000010\d*…0000/);
  });
});
