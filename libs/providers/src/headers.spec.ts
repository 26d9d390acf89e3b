import { headersToRaw, inboundHeaders, outboundHeaders, rawHeaderValues } from './headers';

describe('outboundHeaders', () => {
  const client = [
    'Host',
    'proxy.local',
    'Authorization',
    'Bearer sk-secret',
    'x-api-key',
    'sk-ant',
    'x-goog-api-key',
    'g',
    'anthropic-version',
    '2023-06-01',
    'X-Custom-Thing',
    'c',
    'Content-Type',
    'application/json',
    'Content-Length',
    '13',
    'X-ASO-API-Key',
    'aso_k_x',
    'X-ASO-Dims',
    'team=a',
    'X-Aso-Other',
    'x',
    'CF-Connecting-IP',
    '1.2.3.4',
    'CF-Ray',
    'r',
    'CDN-Loop',
    'l',
    'True-Client-IP',
    '1.1.1.1',
    'X-Forwarded-For',
    '9.9.9.9',
    'X-Forwarded-Proto',
    'https',
    'X-Real-IP',
    '8.8.8.8',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Authorization',
    'Basic x',
    'Proxy-Connection',
    'keep-alive',
    'Connection',
    'X-Hop-Req, keep-alive',
    'X-Hop-Req',
    'must-go',
    'Te',
    'trailers',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'h2c',
    'Trailer',
    'X-T',
    'X-Repeated-Req',
    '1',
    'X-Repeated-Req',
    '2',
    'User-Agent',
    'openai-node/5',
  ];

  it('strips ours, the CDN, client-address hints, Host and hop-by-hop (incl. Connection-named); keeps the rest in order', () => {
    expect(outboundHeaders(client)).toEqual([
      'Authorization',
      'Bearer sk-secret',
      'x-api-key',
      'sk-ant',
      'x-goog-api-key',
      'g',
      'anthropic-version',
      '2023-06-01',
      'X-Custom-Thing',
      'c',
      'Content-Type',
      'application/json',
      'Content-Length',
      '13',
      'X-Repeated-Req',
      '1',
      'X-Repeated-Req',
      '2',
      'User-Agent',
      'openai-node/5',
    ]);
  });

  it('never adds headers (no Accept-Encoding, no User-Agent)', () => {
    const out = outboundHeaders(['Content-Type', 'application/json']);
    expect(out).toEqual(['Content-Type', 'application/json']);
  });

  it('leaves Content-Length to the transport when the body is re-sent from memory', () => {
    expect(outboundHeaders(['content-length', '5', 'a', 'b'], true)).toEqual(['a', 'b']);
  });
});

describe('inboundHeaders', () => {
  it('keeps provider headers unchanged and repeated, drops hop-by-hop and Connection-named ones', () => {
    const up = headersToRaw({
      'x-provider-thing': 'p',
      'x-repeated': ['a', 'b'],
      'openai-processing-ms': '12',
      connection: 'X-Hop-Resp',
      'x-hop-resp': 'must-go',
      'set-cookie': ['c=1', 'd=2'],
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'content-encoding': 'gzip',
    });
    const out = inboundHeaders(up);
    expect(out).toEqual([
      'x-provider-thing',
      'p',
      'x-repeated',
      'a',
      'x-repeated',
      'b',
      'openai-processing-ms',
      '12',
      'set-cookie',
      'c=1',
      'set-cookie',
      'd=2',
      'content-encoding',
      'gzip',
    ]);
    expect(rawHeaderValues(out, 'X-Repeated')).toEqual(['a', 'b']);
  });
});
