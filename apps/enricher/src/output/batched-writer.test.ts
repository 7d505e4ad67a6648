import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeOut } from '../run-command.js';
import { createBatchedWriter } from './batched-writer.js';

function collector() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { writes, stream: (text: string) => writeOut(text, stream) };
}
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batched writer', () => {
  it('joins the pieces written while the run is busy into one write, in order, once it is idle', async () => {
    const { writes, stream } = collector();
    const out = createBatchedWriter(stream);
    for (let i = 0; i < 100; i += 1) await out.write(`{"n":${i}}\n`);
    expect(writes).toEqual([]);
    await nextImmediate();
    expect(writes).toEqual([Array.from({ length: 100 }, (_, i) => `{"n":${i}}\n`).join('')]);
  });

  it('writes a full batch at once and waits for it (backpressure), then the rest on flush', async () => {
    const { writes, stream } = collector();
    const out = createBatchedWriter(stream, 10);
    await out.write('12345');
    expect(writes).toEqual([]);
    await out.write('67890');
    expect(writes).toEqual(['1234567890']);
    await out.write('end');
    await out.flush();
    expect(writes).toEqual(['1234567890', 'end']);
  });

  it('reports a failed write on flush', async () => {
    const stream = new Writable({ write: (_chunk, _encoding, done) => done(new Error('disk full')) });
    stream.on('error', () => undefined);
    const out = createBatchedWriter((text) => writeOut(text, stream));
    await out.write('x');
    await expect(out.flush()).rejects.toThrow('disk full');
  });
});
