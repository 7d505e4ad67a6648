import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import xterm from '@xterm/headless';
import { CLI, childEnv } from './cli.js';

/**
 * The CLI on a real pseudo-terminal: util-linux `script` (in every Debian, package bsdutils)
 * allocates the pty and copies everything the program draws to our pipe; `@xterm/headless`
 * (xterm.js without a DOM) plays those bytes back into a screen we can read, the way a person's
 * terminal would. No native module to build.
 */
const SCRIPT = '/usr/bin/script';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

export interface PtyRun {
  /** Bytes the program wrote to the terminal so far (after the tty name line). */
  readonly raw: () => string;
  /** Resolves once `test` holds on the output so far (checked on every chunk). */
  until(test: (raw: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Types on the terminal (`\x03` is Ctrl-C: the line discipline sends SIGINT). */
  type(text: string): void;
  /** Resizes the terminal (the kernel sends SIGWINCH to the program). */
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code once the program ended and its output is drained. */
  exited: Promise<number | null>;
  child: ChildProcess;
}

export function assertScript(): void {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: install util-linux's script (Debian package bsdutils) for the terminal tests`);
}

export function runInPty(args: readonly string[], options: { cols: number; rows: number; cwd?: string; env?: Record<string, string | undefined>; command?: string }): PtyRun {
  const program = options.command ?? `exec ${quote(process.execPath)} ${quote(CLI)} ${args.map(quote).join(' ')}`;
  // `tty` first, so the test can resize this terminal with stty -F; then the size, then the program.
  const shell = `tty; stty cols ${options.cols} rows ${options.rows}; ${program}`;
  const child = spawn(SCRIPT, ['-q', '-e', '-f', '-c', shell, '/dev/null'], {
    cwd: options.cwd,
    env: childEnv({ TERM: 'xterm-256color', ...options.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let all = '';
  let tty: string | undefined;
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    all += chunk;
    if (tty === undefined && all.includes('\n')) tty = all.slice(0, all.indexOf('\n')).trim();
    for (const waiter of waiters) waiter();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const raw = () => (tty === undefined ? '' : all.slice(all.indexOf('\n') + 1));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return {
    raw,
    child,
    exited,
    until(test, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!test(raw())) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; the terminal so far:\n${JSON.stringify(raw().slice(-3000))}\nscript's stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
        void exited.then(() => setImmediate(check));
      });
    },
    type(text) {
      child.stdin!.write(text);
    },
    async resize(cols, rows) {
      if (!tty) throw new Error('no tty name yet');
      await promisify(execFile)('stty', ['-F', tty, 'cols', String(cols), 'rows', String(rows)]);
    },
  };
}

/**
 * The screen a terminal of this size shows after `raw`: every line from the top of the
 * scrollback to the cursor, soft-wrapped lines joined, trailing spaces dropped.
 */
export async function screenOf(raw: string, cols: number, rows: number): Promise<{ lines: string[]; cursorX: number }> {
  const terminal = new xterm.Terminal({ cols, rows, scrollback: 10_000, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(raw, resolve));
  const buffer = terminal.buffer.active;
  const lines: string[] = [];
  const last = buffer.baseY + buffer.cursorY;
  for (let y = 0; y <= last; y++) {
    const line = buffer.getLine(y);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  const cursorX = buffer.cursorX;
  terminal.dispose();
  return { lines, cursorX };
}

/** Cells a rendered line takes, joined soft-wraps included: the width that had to fit. */
export function widest(lines: readonly string[]): number {
  return Math.max(0, ...lines.map((line) => [...line].length));
}
