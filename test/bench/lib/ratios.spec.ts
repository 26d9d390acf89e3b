import { fmtKiB, fmtRatio, fmtUs, median, paired, ratio, ratiosTo, spread } from './ratios';

describe('ratio math', () => {
  it('divides, and refuses missing or non-positive denominators', () => {
    expect(ratio(150, 100)).toBe(1.5);
    expect(ratio(0, 100)).toBe(0);
    expect(ratio(100, 0)).toBeNaN();
    expect(ratio(100, -3)).toBeNaN();
    expect(ratio(NaN, 100)).toBeNaN();
    expect(ratio(100, NaN)).toBeNaN();
    expect(ratio(-1, 100)).toBeNaN();
  });

  it('gives each figure against both floors and the peer', () => {
    const cpu = new Map([
      ['nginx', 20],
      ['bare', 130],
      ['portkey', 2_000],
    ]);
    expect(ratiosTo(195, cpu)).toEqual({ nginx: 9.75, bare: 1.5, portkey: 0.0975 });
    expect(ratiosTo(195, new Map([['bare', 130]]))).toEqual({ nginx: NaN, bare: 1.5, portkey: NaN });
  });

  it('formats ratios with sensible precision and a dash for nothing', () => {
    expect(fmtRatio(1.5)).toBe('1.50x');
    expect(fmtRatio(12.34)).toBe('12.3x');
    expect(fmtRatio(153.2)).toBe('153x');
    expect(fmtRatio(NaN)).toBe('—');
  });

  it('spreads repeats as min/median/max, ignoring missing values', () => {
    expect(spread([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(spread([4, 1, NaN, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4, n: 4 });
    expect(spread([])).toEqual({ min: NaN, median: NaN, max: NaN, n: 0 });
    expect(median([10])).toBe(10);
  });

  it('pairs repetitions, so an added figure subtracts the baseline of the same repetition', () => {
    expect(paired([110, 220, 330], [100, 200])).toEqual([10, 20, NaN]);
  });

  it('formats µs and KiB by magnitude', () => {
    expect(fmtUs(812.4)).toBe('812 µs');
    expect(fmtUs(12_400)).toBe('12.4 ms');
    expect(fmtUs(1_250_000)).toBe('1.25 s');
    expect(fmtUs(-1500)).toBe('-1500 µs');
    expect(fmtKiB(63.14)).toBe('63.1 KiB');
    expect(fmtKiB(20_480)).toBe('20.0 MiB');
  });
});
