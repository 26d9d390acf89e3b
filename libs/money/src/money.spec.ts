import {
  COST_SCALE,
  Decimal,
  formatDecimal,
  isDecimalString,
  JsonNumber,
  lineCost,
  parseDecimal,
  parseJsonExact,
  roundCost,
  sumDecimals,
} from './index';

describe('money', () => {
  it('parses decimal strings exactly, including exponent notation', () => {
    expect(formatDecimal(parseDecimal('2.5e-06'))).toBe('0.0000025');
    expect(formatDecimal(parseDecimal('0.1').plus(parseDecimal('0.2')))).toBe('0.3');
    expect(formatDecimal(parseDecimal(' 15 '))).toBe('15');
    expect(formatDecimal(parseDecimal(12n))).toBe('12');
    expect(formatDecimal(parseDecimal(1_000_000))).toBe('1000000');
  });

  it('refuses what is not an exact decimal', () => {
    for (const bad of ['', 'abc', '1e', 'NaN', 'Infinity', '0x10', '1,5', '--1']) {
      expect(() => parseDecimal(bad)).toThrow();
      expect(isDecimalString(bad)).toBe(false);
    }
    expect(() => parseDecimal(0.1)).toThrow(/pass a string/);
    expect(() => parseDecimal(Number.MAX_SAFE_INTEGER + 2)).toThrow();
  });

  it('formats in plain notation without trailing zeros or negative zero', () => {
    expect(formatDecimal(new Decimal('1e-20'))).toBe('0.00000000000000000001');
    expect(formatDecimal(new Decimal('1e+25'))).toBe('10000000000000000000000000');
    expect(formatDecimal(new Decimal('1.500'))).toBe('1.5');
    expect(formatDecimal(new Decimal('-0'))).toBe('0');
  });

  it('rounds only beyond 12 fractional digits, half to even', () => {
    expect(COST_SCALE).toBe(12);
    expect(formatDecimal(roundCost(new Decimal('0.123456789012')))).toBe('0.123456789012');
    expect(formatDecimal(roundCost(new Decimal('0.0000000000005')))).toBe('0');
    expect(formatDecimal(roundCost(new Decimal('0.0000000000015')))).toBe('0.000000000002');
    expect(formatDecimal(roundCost(new Decimal('0.0000000000025')))).toBe('0.000000000002');
    expect(formatDecimal(roundCost(new Decimal('0.00000000000250001')))).toBe('0.000000000003');
    // 0.025 × 1.33333333333333 (the reference's odd-markup example)
    expect(formatDecimal(roundCost(new Decimal('0.025').times('1.33333333333333')))).toBe('0.033333333333');
  });

  it('computes token lines exactly: 1M tokens of a $0.15/M model cost $0.15', () => {
    expect(formatDecimal(lineCost(new Decimal(1_000_000), new Decimal('0.15'), 1_000_000))).toBe('0.15');
    expect(formatDecimal(lineCost(new Decimal(200001), new Decimal('2.5'), 1_000_000))).toBe('0.5000025');
    expect(formatDecimal(lineCost(new Decimal('90.5'), new Decimal('0.0001'), 1))).toBe('0.00905');
    // 999,999,999,999 tokens at a 20-digit rate: still exact, then rounded by the rule
    const big = lineCost(new Decimal('999999999999'), new Decimal('0.12345678901234567891'), 1_000_000);
    expect(formatDecimal(big)).toBe('123456.789012222222');
  });

  it('sums stored strings exactly', () => {
    const parts = Array.from({ length: 1000 }, () => '0.000000000001');
    expect(formatDecimal(sumDecimals(parts))).toBe('0.000000001');
    expect(formatDecimal(sumDecimals(['0.1', '0.2', '-0.3']))).toBe('0');
  });

  describe('parseJsonExact', () => {
    it('keeps numbers as their source text', () => {
      const v = parseJsonExact(
        '{"a": 2.5e-06, "b": [1, -0.1, 1.0000000000000001e-6], "c": "x\\"y", "d": null}',
      );
      expect(v).toEqual({
        a: new JsonNumber('2.5e-06'),
        b: [new JsonNumber('1'), new JsonNumber('-0.1'), new JsonNumber('1.0000000000000001e-6')],
        c: 'x"y',
        d: null,
      });
      // the float path would have lost the last digit
      expect(String(JSON.parse('1.00000000000000001'))).toBe('1');
      expect(parseJsonExact('1.00000000000000001')).toEqual(new JsonNumber('1.00000000000000001'));
    });

    it('reads nested empty containers, booleans and unicode escapes', () => {
      expect(parseJsonExact(' [ {}, [], true, false, "\\u00e9" ] ')).toEqual([{}, [], true, false, 'é']);
    });

    it('rejects malformed JSON', () => {
      for (const bad of ['{', '[1,]', '{"a" 1}', '"open', '1 2', '{"a":1,}', 'tru']) {
        expect(() => parseJsonExact(bad)).toThrow(SyntaxError);
      }
    });
  });
});
