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
