// The benchmark must time the allowed path it claims to: every scenario authenticates and is allowed with the
// body's model, twice over (the second time from the caches).
import { benchSetup } from './scenarios';

describe('authorizer benchmark scenarios', () => {
  it('each is allowed with the body model, first and second time', async () => {
    const { auth, scenarios } = benchSetup();
    expect(scenarios.map((s) => s.name)).toHaveLength(3);
    for (let pass = 0; pass < 2; pass++) {
      for (const s of scenarios) {
        const a = await auth.authenticate(s.key);
        if (!a.ok) throw new Error(a.message);
        expect([s.name, auth.authorize(a.key, s.input)]).toEqual([
          s.name,
          expect.objectContaining({ ok: true, model: s.model }),
        ]);
      }
    }
  });

  it('the restrictive scenarios do refuse another model (they exercise the allow-list)', async () => {
    const { auth, scenarios } = benchSetup();
    for (const s of scenarios.slice(1)) {
      const a = await auth.authenticate(s.key);
      if (!a.ok) throw new Error(a.message);
      const body = Buffer.from(s.input.body!.toString('utf8').replace('gpt-4.1-mini', 'gpt-5'));
      expect(auth.authorize(a.key, { ...s.input, body })).toMatchObject({ ok: false, type: 'model_blocked' });
    }
  });
});
