import { MAX_UNPRICED_TRACKED, UnpricedTracker } from './unpriced-tracker';

describe('UnpricedTracker', () => {
  it('counts events per model, busiest first, with how many still had a cost', () => {
    const t = new UnpricedTracker();
    t.note('openrouter', 'someone/new-model', true);
    t.note('openai', 'gpt-unknown', false);
    t.note('openai', 'gpt-unknown', false);
    expect(t.list()).toEqual([
      { provider: 'openai', model: 'gpt-unknown', events: 2, cost_known: 0 },
      { provider: 'openrouter', model: 'someone/new-model', events: 1, cost_known: 1 },
    ]);
  });

  // Clients choose model names, so the tracker cannot grow without bound.
  it('is bounded: past the cap, new names share one bucket', () => {
    const t = new UnpricedTracker();
    for (let i = 0; i < MAX_UNPRICED_TRACKED + 50; i++) t.note('openai', `junk-${i}`, false);
    const list = t.list();
    expect(list).toHaveLength(MAX_UNPRICED_TRACKED + 1);
    expect(list[0]).toEqual({ provider: '*', model: '(other models)', events: 50, cost_known: 0 });
    t.note('openai', 'junk-3', false); // a name already tracked keeps its own entry
    expect(t.list().find((u) => u.model === 'junk-3')?.events).toBe(2);
  });
});
