import { PoisonMessageError } from '@spendops/messaging';
import { extractedEvent } from '../testing/usage-builder';
import { validateUsageMessage } from './validate-usage';

describe('validateUsageMessage', () => {
  it('accepts a full extracted message unchanged', () => {
    const e = extractedEvent('openai', 'gpt-4o', { prompt_tokens: 10 }, { provider_cost: '0.01' });
    expect(validateUsageMessage(structuredClone(e))).toEqual(e);
  });

  it('fills what a trusted ingest producer left out', () => {
    const v = validateUsageMessage({
      request_id: 'r',
      tenant_id: 't',
      provider: 'openai',
      usage: { model: 'gpt-4o', prompt_tokens: 5 },
    });
    expect(v.usage).toMatchObject({
      prompt_tokens: 5,
      completion_tokens: 0,
      endpoint_class: 'other',
      provider_cost: null,
      audio_seconds: '0',
    });
    expect(v).toMatchObject({ http_status: 200, started_at_ms: 0, dims: {} });
  });

  const base = () =>
    extractedEvent('openai', 'gpt-4o', { prompt_tokens: 10 }) as unknown as Record<string, unknown>;
  const withUsage = (patch: Record<string, unknown>) => {
    const b = base();
    return { ...b, usage: { ...(b.usage as object), ...patch } };
  };
  it.each<[string, unknown, RegExp]>([
    ['not an object', 'hello', /not an object/],
    ['no request id', { ...base(), request_id: '' }, /request_id/],
    ['no usage', { ...base(), usage: undefined }, /usage must be an object/],
    ['negative tokens', withUsage({ prompt_tokens: -1 }), /prompt_tokens/],
    ['fractional tokens', withUsage({ completion_tokens: 1.5 }), /completion_tokens/],
    ['tokens as a string', withUsage({ cache_read_tokens: '5' }), /cache_read_tokens/],
    ['float provider cost', withUsage({ provider_cost: 0.01 }), /provider_cost/],
    ['garbage provider cost', withUsage({ provider_cost: 'free' }), /provider_cost/],
    ['bad audio seconds', withUsage({ audio_seconds: 'a while' }), /audio_seconds/],
    ['unknown endpoint class', withUsage({ endpoint_class: 'telepathy' }), /endpoint_class/],
    ['bad status', { ...base(), http_status: 'ok' }, /http_status/],
    ['bad outcome', { ...base(), outcome: 'maybe' }, /outcome/],
  ])('rejects %s as poison', (_name, payload, why) => {
    expect(() => validateUsageMessage(payload)).toThrow(PoisonMessageError);
    expect(() => validateUsageMessage(payload)).toThrow(why);
  });
});
