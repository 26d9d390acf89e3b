import { defaultConfig } from '@spendops/config';
import {
  PIPELINE_THREAD_DEFAULT,
  parsePipelineThread,
  pipelineThreadServices,
  pipelineThreadSetting,
} from './pipeline-thread-setting';

describe('pipeline thread setting', () => {
  it('reads the flag first, then SPENDOPS_PIPELINE_THREAD, then the default (on)', () => {
    expect(PIPELINE_THREAD_DEFAULT).toBe(true);
    expect(pipelineThreadSetting(undefined, {})).toBe(true);
    expect(pipelineThreadSetting(undefined, { SPENDOPS_PIPELINE_THREAD: 'false' })).toBe(false);
    expect(pipelineThreadSetting('true', { SPENDOPS_PIPELINE_THREAD: 'false' })).toBe(true);
    expect(pipelineThreadSetting(false, {})).toBe(false);
  });

  it('accepts the usual spellings and refuses anything else', () => {
    for (const on of ['1', 'true', 'YES', 'on']) expect(parsePipelineThread(on)).toBe(true);
    for (const off of ['0', 'false', 'No', 'off']) expect(parsePipelineThread(off)).toBe(false);
    expect(parsePipelineThread('')).toBeUndefined();
    expect(() => parsePipelineThread('maybe')).toThrow(
      '--pipeline-thread: expected true or false, got maybe',
    );
  });

  it('splits only an all-in-one process that runs the proxy', () => {
    const all = defaultConfig();
    expect(pipelineThreadServices(all, true)).toEqual(['extraction', 'pricing', 'ledger']);
    expect(pipelineThreadServices(all, false)).toEqual([]);
    expect(pipelineThreadServices({ ...all, amqp_url: 'amqp://broker' }, true)).toEqual([]);
    expect(pipelineThreadServices({ ...all, services: ['extraction', 'pricing', 'ledger'] }, true)).toEqual(
      [],
    );
    expect(pipelineThreadServices({ ...all, services: ['proxy', 'auth', 'ledger', 'api'] }, true)).toEqual([
      'ledger',
    ]);
  });
});
