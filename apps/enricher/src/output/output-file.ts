import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';

export interface OutputFile {
  /** Where to write the document (a temporary file beside the final one). */
  readonly stream: WriteStream;
  /**
   * Closes the file and gives it its name: the final one after a whole run, `FILE.partial` after
   * an interrupted one (the document so far is complete and valid, but not the whole answer, and
   * a script waiting for FILE must not take it for one). Resolves with the name it got.
   */
  finish(options: { interrupted: boolean }): Promise<string>;
  /** Closes and removes the temporary file (the run failed). */
  discard(): Promise<void>;
}

/**
 * `-o FILE`: the run writes to `.FILE.<pid>.tmp` in FILE's directory (same file system, so the
 * rename is atomic) and renames it at the end. A run stopped hard (a second Ctrl-C, a crash)
 * removes the temporary file on exit: FILE is never half written, and an older FILE stays whole.
 */
export async function openOutputFile(path: string): Promise<OutputFile> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const stream = createWriteStream(temporary, { flags: 'wx' });
  await once(stream, 'open');
  const removeOnExit = () => rmSync(temporary, { force: true });
  process.on('exit', removeOnExit);
  let settled = false;
  const close = async () => {
    if (stream.closed) return;
    stream.end();
    await once(stream, 'close');
  };
  return {
    stream,
    async finish({ interrupted }) {
      settled = true;
      await close();
      const target = interrupted ? `${path}.partial` : path;
      await rename(temporary, target);
      process.off('exit', removeOnExit);
      return target;
    },
    async discard() {
      if (settled) return;
      settled = true;
      stream.destroy();
      await rm(temporary, { force: true });
      process.off('exit', removeOnExit);
    },
  };
}
