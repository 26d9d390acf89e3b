// The key command DTOs accept a policy's rate_limits as an object (validatePolicy checks it field by field).
import 'reflect-metadata';
import { KeyValidationError } from '../key.errors';
import { CreateKeyDto, UpdatePolicyDto } from './key-commands.dto';
import { validated } from './validate';

describe('key command DTOs: rate_limits', () => {
  it('passes rate_limits through create and update-policy', () => {
    const rate_limits = { requests_per_minute: 5, per_dimension: { team: { usd_per_hour: '1.5' } } };
    expect(validated(CreateKeyDto, { name: 'k', policy: { rate_limits } }).policy?.rate_limits).toEqual(
      rate_limits,
    );
    expect(validated(UpdatePolicyDto, { id: 'x', policy: { rate_limits } }).policy.rate_limits).toEqual(
      rate_limits,
    );
  });

  it('null clears the limits', () => {
    expect(
      validated(UpdatePolicyDto, { id: 'x', policy: { rate_limits: null } }).policy.rate_limits,
    ).toBeNull();
  });

  it('refuses a non-object, naming the field', () => {
    expect(() => validated(CreateKeyDto, { name: 'k', policy: { rate_limits: 10 } })).toThrow(
      KeyValidationError,
    );
    expect(() => validated(CreateKeyDto, { name: 'k', policy: { rate_limits: 10 } })).toThrow(
      /policy\.rate_limits/,
    );
  });
});
