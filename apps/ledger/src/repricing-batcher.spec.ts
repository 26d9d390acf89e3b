import { RepricingBatcher, type BatchOutcome } from './repricing-batcher';

/** An applier that records its batches and answers each item with `answer`, or waits for `gate` first. */
function recording(answer: (item: number) => BatchOutcome<string> = (i) => ({ ok: `r${i}` })) {
  const batches: number[][] = [];
  let active = 0;
  let maxActive = 0;
  let gate: Promise<void> | null = null;
  const apply = async (items: number[]): Promise<BatchOutcome<string>[]> => {
    batches.push(items);
    maxActive = Math.max(maxActive, ++active);
    try {
      if (gate) await gate;
      return items.map(answer);
    } finally {
      active--;
    }
  };
  return {
    apply,
    batches,
    maxActive: () => maxActive,
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = null;
        open();
      };
    },
  };
}

const dataError = () => Object.assign(new Error('invalid input syntax for type numeric'), { code: '22P02' });

describe('RepricingBatcher', () => {
  it('applies the items added together as one batch and answers each caller with its own result', async () => {
    const r = recording();
    const batcher = new RepricingBatcher(r.apply);
    await expect(Promise.all([1, 2, 3].map((i) => batcher.add(i)))).resolves.toEqual(['r1', 'r2', 'r3']);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it('writes one batch at a time: items added meanwhile wait for the next, in order, up to maxBatch each', async () => {
    const r = recording();
    const batcher = new RepricingBatcher(r.apply, 2);
    const open = r.hold();
    const first = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is under way
    const rest = [2, 3, 4, 5, 6].map((i) => batcher.add(i));
    expect(batcher.pending).toBe(6);
    open();
    await expect(Promise.all([first, ...rest])).resolves.toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(r.batches).toEqual([[1], [2, 3], [4, 5], [6]]);
    expect(r.maxActive()).toBe(1);
    expect(batcher.pending).toBe(0);
  });

  it("an item's own error fails that item only", async () => {
    const r = recording((i) => (i === 2 ? { error: new Error('not recorded') } : { ok: `r${i}` }));
    const batcher = new RepricingBatcher(r.apply);
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.add(i)));
    expect(results.map((x) => (x.status === 'fulfilled' ? x.value : (x.reason as Error).message))).toEqual([
      'r1',
      'not recorded',
      'r3',
    ]);
  });

  it('a data error of the batch is retried item by item, so only the bad item fails', async () => {
    const batches: number[][] = [];
    const batcher = new RepricingBatcher<number, string>(async (items) => {
      batches.push(items);
      if (items.includes(2)) throw dataError();
      return items.map((i) => ({ ok: `r${i}` }));
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.add(i)));
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('any other failure (the database away) fails every item of the batch, and the next batch still runs', async () => {
    let down = true;
    const batcher = new RepricingBatcher<number, string>(async (items) => {
      if (down) throw new Error('connection terminated');
      return items.map((i) => ({ ok: `r${i}` }));
    });
    const failed = await Promise.allSettled([1, 2].map((i) => batcher.add(i)));
    expect(failed.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    down = false;
    await expect(batcher.add(3)).resolves.toBe('r3');
  });
});
