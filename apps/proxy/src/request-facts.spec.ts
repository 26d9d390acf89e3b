import { isJsonContentType, modelFromGeminiPath, scanRequestFacts } from './request-facts';

describe('scanRequestFacts', () => {
  const rows: Array<[string, { model: string; stream: boolean }]> = [
    ['{"model":"gpt-4o","stream":true}', { model: 'gpt-4o', stream: true }],
    [
      ' {\n "messages":[{"content":"\\"model\\":\\"x\\""}], "model" : "m\\u0031", "stream":false }',
      { model: 'm1', stream: false },
    ],
    ['{"metadata":{"model":"inner","stream":true},"model":"outer"}', { model: 'outer', stream: false }],
    ['{"stream":"true"}', { model: '', stream: false }],
    ['{"model":5}', { model: '', stream: false }],
    ['{}', { model: '', stream: false }],
    ['[{"model":"m"}]', { model: '', stream: false }],
    ['{"model":"m",', { model: '', stream: false }],
    ['{"model":"m"} trailing', { model: 'm', stream: false }],
    ['{"mod\\u0065l":"m","str\\u0065am":true}', { model: 'm', stream: true }],
    ['{"a\\x":1,"model":"m"}', { model: '', stream: false }],
    ['{"models":"m","streams":true,"Model":"x","stream":true }', { model: '', stream: true }],
    ['not json', { model: '', stream: false }],
    ['', { model: '', stream: false }],
  ];
  it.each(rows.map(([body, want]) => ({ body, want })))('$body', ({ body, want }) => {
    expect(scanRequestFacts(Buffer.from(body))).toEqual(want);
  });
});

describe('isJsonContentType', () => {
  it('accepts application/json and +json types only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('multipart/form-data; boundary=x')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
    expect(isJsonContentType('json')).toBe(true); // unparsable: anything mentioning json
  });
});

describe('modelFromGeminiPath', () => {
  it('reads the model of Gemini-native paths', () => {
    expect(modelFromGeminiPath('/v1beta/models/gemini-2.5-pro:generateContent')).toBe('gemini-2.5-pro');
    expect(modelFromGeminiPath('/v1beta/models/gemini-2.5-flash:streamGenerateContent')).toBe(
      'gemini-2.5-flash',
    );
    expect(modelFromGeminiPath('/v1beta/tunedModels/x:generateContent')).toBe('');
    expect(modelFromGeminiPath('/v1/chat/completions')).toBe('');
  });
});
