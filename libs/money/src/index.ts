export { Decimal, ZERO } from './decimal';
export {
  COST_SCALE,
  isDecimalString,
  parseDecimal,
  formatDecimal,
  roundCost,
  sumDecimals,
  lineCost,
} from './money';
export { JsonNumber, parseJsonExact, type ExactJson } from './json-exact';
