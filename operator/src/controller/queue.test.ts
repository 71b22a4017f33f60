import { describe, expect, it } from 'vitest';
import { WorkQueue, type Timers } from './queue.js';

class FakeTimers implements Timers {
  now = 0;
  private tasks: Array<{ at: number; fn: () => void; id: number }> = [];
  private id = 0;
  setTimeout(fn: () => void, ms: number) {
    const t = { at: this.now + ms, fn, id: ++this.id };
    this.tasks.push(t);
    return t.id;
  }
  clearTimeout(h: unknown) {
    this.tasks = this.tasks.filter((t) => t.id !== h);
  }
  advance(ms: number) {
    this.now += ms;
    const due = this.tasks.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at);
    this.tasks = this.tasks.filter((t) => t.at > this.now);
    for (const t of due) t.fn();
  }
}

describe('WorkQueue', () => {
  it('de-duplicates keys and hands each to one worker at a time', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.depth()).toBe(2);
    expect(await q.get()).toBe('a');
    q.add('a'); // while processing: runs again after done()
    expect(await q.get()).toBe('b');
    expect(q.depth()).toBe(0);
    q.done('a');
    expect(await q.get()).toBe('a');
  });

  it('backs off exponentially per key and forgets on success', () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000, timers, now: () => timers.now });
    expect([q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')]).toEqual([100, 200, 400, 800, 1000]);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(100);
  });

  it('addAfter never postpones an earlier schedule', () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ timers, now: () => timers.now });
    q.addAfter('k', 100);
    q.addAfter('k', 5000);
    timers.advance(100);
    expect(q.depth()).toBe(1);
  });

  it('shutdown releases waiting workers', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });
});
