// Port of the reference's internal/keys/keys_test.go (TestParse, TestGenerateEntropy, FuzzParse seeds).
import {
  KEY_PREFIX,
  generateKey,
  hashKey,
  hashKeyHex,
  hashesEqual,
  parseKeyId,
  serverSecretFromHex,
} from './key-format';

describe('parseKeyId', () => {
  const { key: generated } = generateKey();
  it.each<[string, string | null]>([
    [generated, generated.slice(KEY_PREFIX.length, KEY_PREFIX.length + 16)],
    ['aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5', '01ARZ3NDEK'],
    ['aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5+/==', '01ARZ3NDEK'],
    ['aso_k_.dGhpcyBpcyBhIHRlc3Qga2V5', null],
    ['aso_k_01ARZ3NDEK', null],
    ['aso_k_01ARZ3NDEK.short', null],
    ['ASO_K_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5', null],
    ['aso_k_01AR-3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5', null],
    ['aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5 ', null],
    ['aso_k_01ARZ3NDEK.dGhpcyBpcyBh\x00HRlc3Qga2V5', null],
    ['aso_k_' + 'A'.repeat(65) + '.dGhpcyBpcyBhIHRlc3Qga2V5', null],
    ['aso_k_A.' + 'a'.repeat(257), null],
    ['aso_k_x.y', null],
    ['aso_k_\xff.aaaaaaaaaaaaaaaaaaaa', null],
    ['aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5, aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5', null], // Node-joined repeat
    ['Bearer sk-x', null],
    ['', null],
  ])('%j → %s', (key, id) => {
    expect(parseKeyId(key)).toBe(id);
  });

  it('accepts only printable ASCII keys whose id is the prefix of the key (random strings)', () => {
    const chars = 'aso_k.AZ09-+/= \x00é';
    for (let i = 0; i < 2000; i++) {
      let s = i % 2 ? 'aso_k_' : '';
      for (let j = 0; j < (i % 60) + 1; j++) s += chars[(i * 7 + j * 13) % chars.length];
      const id = parseKeyId(s);
      if (id === null) continue;
      expect(s.startsWith(KEY_PREFIX + id + '.')).toBe(true);
      expect(/^[\x21-\x7e]+$/.test(s)).toBe(true);
    }
  });
});

describe('generateKey', () => {
  it('has 256-bit secrets and unique 16-char Crockford ids', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { id, key } = generateKey();
      const secret = key.slice(key.indexOf('.') + 1);
      expect(id).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{16}$/);
      expect(secret.length).toBeGreaterThanOrEqual(43); // 43 base64 chars = 256 bits
      expect(seen.has(id) || seen.has(secret)).toBe(false);
      seen.add(id).add(secret);
      expect(parseKeyId(key)).toBe(id);
    }
  });
  it('keeps a given id (rotation)', () => {
    expect(generateKey('01ARZ3NDEKTSV4RR').key.startsWith('aso_k_01ARZ3NDEKTSV4RR.')).toBe(true);
  });
});

describe('hashing', () => {
  const secret = serverSecretFromHex('6b'.repeat(32));
  it('is HMAC-SHA-256 under the server secret (RFC 4231 test case 1)', () => {
    expect(hashKey(Buffer.alloc(20, 0x0b), 'Hi There').toString('hex')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hashKeyHex(secret, 'a')).toBe(hashKey(secret, 'a').toString('hex'));
    expect(hashKeyHex(secret, 'a')).not.toBe(hashKeyHex(serverSecretFromHex('6c'.repeat(32)), 'a'));
  });
  it('compares in constant time and tolerates length mismatch', () => {
    const h = hashKey(secret, 'x');
    expect(hashesEqual(h, hashKey(secret, 'x'))).toBe(true);
    expect(hashesEqual(h, hashKey(secret, 'y'))).toBe(false);
    expect(hashesEqual(h, h.subarray(1))).toBe(false);
  });
  it('rejects short or non-hex server secrets', () => {
    expect(() => serverSecretFromHex('ab'.repeat(31))).toThrow(/64 hex/);
    expect(() => serverSecretFromHex('zz'.repeat(32))).toThrow(/64 hex/);
  });
});
