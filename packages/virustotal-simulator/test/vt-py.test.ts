// What vt-py sees is untyped JSON: the test asserts it field by field.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observableFor, startSimulator, type Simulator } from '../src/index.js';
import { GOOD_KEY } from './helpers.js';

// VirusTotal's official Python client (vendored in test/vt-py, see its README) against the
// simulator: objects, relationships, cursor-paged iterators, analyses, submissions, YARA
// rulesets and errors, as the field's integrations call them.

const run = promisify(execFile);
const VT_PY = fileURLToPath(new URL('./vt-py/', import.meta.url));

/** A python3 that can import vt-py's dependencies (Debian's has them once python3-aiohttp is installed). */
async function findPython(): Promise<string | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', 'import aiohttp, aiofiles']);
      return python;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const python = await findPython();
// CI installs the dependencies (.ci/run) and must not skip; elsewhere a missing one skips with the reason.
const missing = python === undefined && process.env.CI !== 'true';
if (missing) console.warn('vt-py tests skipped: no python3 with aiohttp and aiofiles (apt-get install python3-aiohttp python3-aiofiles)');

const FILE = observableFor({ type: 'sha256', malicious: 40, total: 70 });
const MISSING_DOMAIN = observableFor({ type: 'domain', status: 'not_found' });

let sim: Simulator;
let seen: Record<string, any>;

describe.skipIf(missing)('vt-py, the official client, against the simulator', () => {
  beforeAll(async () => {
    if (!python) throw new Error('no python3 with aiohttp and aiofiles: apt-get install python3-aiohttp python3-aiofiles');
    sim = await startSimulator({ port: 0, apiKeys: [GOOD_KEY], seed: 'vt-py', depth: [{ value: FILE, yara: 2 }] });
    const host = sim.v3Url.replace(/\/api\/v3$/, '');
    const { stdout } = await run(python, [`${VT_PY}drive_simulator.py`, host, GOOD_KEY, FILE, 'malicious.example', MISSING_DOMAIN], {
      env: { ...process.env, PYTHONPATH: VT_PY, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
    });
    seen = JSON.parse(stdout);
  }, 90_000);
  afterAll(() => sim?.close());

  it('reads single objects', () => {
    expect(seen.file).toEqual({ type: 'file', id: FILE, stats: expect.objectContaining({ malicious: 40 }) });
    expect(seen.domain).toMatchObject({ type: 'domain', id: 'malicious.example' });
    expect(seen.ip).toEqual({ type: 'ip_address', id: '8.8.8.8' });
  });

  it('reads relationships with the object, and iterates relationship collections page by page', () => {
    expect(seen.relationships).toEqual(['contacted_domains', 'contacted_ips']);
    expect(seen.related_objects).toHaveLength(5);
    // The descriptors' collection names the same objects in the same order.
    expect(seen.related_descriptors).toEqual(seen.related_objects);
  });

  it('resumes an iterator from the server cursor the first one stopped at', () => {
    expect(seen.cursor.head).toEqual(seen.related_objects.slice(0, 3));
    // vt-py's cursor is the server's cursor of the page after the last batch it fetched (items 4
    // on, with batch_size 2) plus a position that it does not apply on resume: the new iterator
    // starts at that page, as it would against VirusTotal. So the third page's first object.
    expect(seen.cursor.rest[0]).toBe(seen.related_objects[4]);
    expect(seen.cursor.rest).toHaveLength(3);
    for (const id of seen.cursor.rest) expect(seen.cursor.head).not.toContain(id);
  });

  it('submits a URL and reads its analysis; asks for a file to be analysed again', () => {
    expect(seen.scan_url).toEqual({ type: 'analysis', analysis_type: 'analysis', status: expect.stringMatching(/^(queued|completed)$/) });
    expect(seen.analyse_file).toEqual({ status: 200, type: 'analysis' });
  });

  it('reads the YARA ruleset a match names', () => {
    expect(seen.yara_ruleset).toEqual({ matches: 2, type: 'yara_ruleset', name: seen.yara_ruleset.rule_name, rule_name: expect.any(String), has_text: true });
  });

  it("raises vt-py's APIError with VirusTotal's codes for not found, unsimulated paths and a wrong key", () => {
    expect(seen.not_found.api_error).toBe('NotFoundError');
    expect(seen.unsimulated.api_error).toBe('NotFoundError');
    expect(seen.unsimulated.message).toMatch(/not simulated/);
    expect(seen.wrong_key.api_error).toBe('WrongCredentialsError');
  });
});
