import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.js';

describe('createFakeClock', () => {
  it('wakes sleepers in deadline order as time advances, and not before', async () => {
    const clock = createFakeClock(1_000);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(150);
    expect(woke).toEqual(['a@1100']);
    expect(clock.now()).toBe(1_249);
    expect(await clock.next()).toBe(true);
    expect(woke).toEqual(['a@1100', 'b@1300']);
    expect(await clock.next()).toBe(false);
  });

  it('rejects a sleep with X_ABORTED when its signal aborts, and forgets it', async () => {
    const clock = createFakeClock();
    const controller = new AbortController();
    const slept = clock.sleep(1_000, controller.signal);
    controller.abort();
    await expect(slept).rejects.toMatchObject({ code: 'X_ABORTED' });
    expect(clock.sleepers).toBe(0);
  });
});
