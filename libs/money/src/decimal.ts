// One Decimal constructor for every money computation: enough precision that token counts times catalog
// rates are always exact, plain notation (never "1e-7") when printed.
import DecimalJs from 'decimal.js';

export const Decimal = DecimalJs.clone({
  precision: 200,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Decimal = DecimalJs;

export const ZERO: Decimal = new Decimal(0);
