import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sampleItems } from '../../test/helpers/items.js';
import { runExitCode, ExitCode } from '../exit-codes.js';
import { createFormatter, type EnrichedItem } from '../output/formats.js';
import { UsageError } from '../usage-error.js';
import { runEnrichment } from './enrich.js';

async function run(stream: AsyncIterable<EnrichedItem>) {
  let text = '';
  const write = async (chunk: string) => void (text += chunk);
  const tally = await runEnrichment({ stream, formatter: await createFormatter('json'), write, signal: new AbortController().signal });
  return { tally, doc: JSON.parse(text) as { records: unknown[]; complete: boolean; interrupted: boolean } };
}

describe('runEnrichment completeness', () => {
  it('a run that processed every input says "complete": true and exits by its lookups', async () => {
    const { tally, doc } = await run((async function* () {
      yield* sampleItems().slice(0, 2);
    })());
    expect(doc).toMatchObject({ complete: true, interrupted: false });
    expect(runExitCode(tally)).not.toBe(ExitCode.Incomplete);
  });

  it('an input that fails midway closes the document with "complete": false and exit code 4, keeping what was done', async () => {
    const { tally, doc } = await run((async function* () {
      yield* sampleItems().slice(0, 2);
      throw new Error('EIO: i/o error, read');
    })());
    expect(doc.records.length).toBeGreaterThan(0);
    expect(doc).toMatchObject({ complete: false, interrupted: false });
    expect(tally).toMatchObject({ incomplete: true, inputError: 'EIO: i/o error, read' });
    expect(runExitCode(tally)).toBe(ExitCode.Incomplete);
  });

  it('a usage mistake found in the input stays a usage error', async () => {
    await expect(
      run((async function* (): AsyncGenerator<EnrichedItem> {
        yield* [];
        throw new UsageError('--input x.csv: no column "observable"');
      })()),
    ).rejects.toBeInstanceOf(UsageError);
  });
});

describe('runEnrichment and its signal', () => {
  const collect = async (stream: AsyncIterable<EnrichedItem>, signal: AbortSignal) => {
    let text = '';
    const tally = await runEnrichment({ stream, formatter: await createFormatter('json'), write: async (chunk: string) => void (text += chunk), signal });
    return { tally, doc: JSON.parse(text) as { records: unknown[]; complete: boolean; interrupted: boolean } };
  };

  it('listens to the signal once for the whole run, and not after it', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const { tally, doc } = await collect(
      (async function* () {
        for (const item of [...sampleItems(), ...sampleItems()]) {
          seen.push(getEventListeners(controller.signal, 'abort').length);
          yield item;
        }
      })(),
      controller.signal,
    );
    expect(doc).toMatchObject({ complete: true, interrupted: false });
    expect(tally.observables).toBe(sampleItems().length * 2);
    expect(new Set(seen)).toEqual(new Set([1]));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('stops at once when the signal fires while a lookup is pending, keeping what was written', async () => {
    const controller = new AbortController();
    const { tally, doc } = await collect(
      (async function* () {
        yield* sampleItems().slice(0, 2);
        controller.abort();
        // A lookup that never ends (waiting for quota): the run must not wait for it.
        await new Promise(() => undefined);
      })(),
      controller.signal,
    );
    expect(doc).toMatchObject({ complete: false, interrupted: true });
    expect(doc.records.length).toBeGreaterThan(0);
    expect(tally.interrupted).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('reads nothing once the signal has fired, before or between items', async () => {
    const before = new AbortController();
    before.abort();
    expect((await collect((async function* () { yield* sampleItems(); })(), before.signal)).doc).toMatchObject({ records: [], interrupted: true });
    // Fired as the first item is handled, between two reads: the second is never asked for.
    const between = new AbortController();
    let reads = 0;
    let text = '';
    const tally = await runEnrichment({
      stream: (async function* () {
        for (const item of sampleItems()) {
          reads += 1;
          yield item;
        }
      })(),
      formatter: await createFormatter('jsonl'),
      write: async (chunk: string) => void (text += chunk),
      onItem: () => between.abort(),
      signal: between.signal,
    });
    expect(tally).toMatchObject({ interrupted: true, observables: 1 });
    expect(reads).toBe(1);
    expect(text.trimEnd().split('\n').length).toBe(sampleItems()[0]!.records.length);
  });
});
