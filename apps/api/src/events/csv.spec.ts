import { csvCell, csvLine, csvRecord } from './csv';

describe('csv', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['', ''],
    ['plain', 'plain'],
    [0, '0'],
    [false, 'false'],
    ['0.000001000', '0.000001000'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r', '"cr\r"'],
    [' leading space', '" leading space"'],
    [{ team: 'a,"b"' }, '"{""team"":""a,\\""b\\""""}"'],
  ])('cell %j → %j', (value, want) => {
    expect(csvCell(value)).toBe(want);
  });

  it('writes a record in the header order, one line each', () => {
    expect(csvLine(['a', 'b'])).toBe('a,b\n');
    expect(csvRecord(['b', 'a', 'missing'], { a: 1, b: 'x' })).toBe('x,1,\n');
  });
});
