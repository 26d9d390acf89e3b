// Bodies of the budget routes. class-validator refuses unknown fields (scope ones included) and wrong types,
// naming the field; the rules that span fields (a custom period's range, thresholds ascending, a fiscal start day)
// are libs/budgets' validateBudgetSpec (called by the service), and the ledger checks the whole definition again.
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsTimeZone,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { BUDGET_PERIODS, type BudgetPeriodKind } from '@spendops/contracts';

/** A positive exact decimal: digits, an optional fraction of at most 10 digits, not zero. */
export const POSITIVE_DECIMAL = /^(?=.*[1-9])\d{1,15}(\.\d{1,10})?$/;

export class BudgetScopeDto {
  @IsOptional() @IsString() @IsNotEmpty() @Length(1, 200) tenant?: string;
  @IsOptional() @IsString() @IsNotEmpty() @Length(1, 200) key_id?: string;
  @IsOptional() @IsString() @IsNotEmpty() @Length(1, 200) provider?: string;
  @IsOptional() @IsString() @IsNotEmpty() @Length(1, 200) model?: string;
  /** Values are checked by validateBudgetSpec, which names the key (`scope.dims.team`). */
  @IsOptional() @IsObject() dims?: Record<string, string>;
}

/** Every field of a budget definition, all optional here (PATCH); POST's required ones are checked after. */
export class BudgetFieldsDto {
  @IsOptional() @IsString() @IsNotEmpty() @Length(1, 200) name?: string;
  @IsOptional() @ValidateNested() @Type(() => BudgetScopeDto) scope?: BudgetScopeDto;
  @IsOptional()
  @IsIn(BUDGET_PERIODS, { message: `must be one of ${BUDGET_PERIODS.join(', ')}` })
  period?: BudgetPeriodKind;
  @IsOptional()
  @IsString()
  @IsTimeZone({ message: 'must be an IANA time zone such as Europe/Paris' })
  time_zone?: string;
  @IsOptional() @IsInt() @Min(1) @Max(28) start_day?: number;
  @IsOptional() @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' }) from?: string;
  @IsOptional() @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' }) to?: string;
  @IsOptional()
  @IsString({ message: 'must be a decimal string such as "100.00"' })
  @Matches(POSITIVE_DECIMAL, { message: 'must be a positive decimal string such as "100.00"' })
  amount_usd?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  thresholds?: number[];
  @IsOptional() @IsBoolean() enforce?: boolean;
  @IsOptional() @IsString() @Length(0, 200) owner?: string;
  @IsOptional() @IsString() @Length(1, 2000) webhook_url?: string;
  @IsOptional() @IsString() @Length(1, 2000) slack_webhook_url?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(20) @IsEmail({}, { each: true }) email?: string[];
}

/** POST /api/v1/budgets (name, period and amount_usd are required: validateBudgetSpec says which is missing). */
export class CreateBudgetBody extends BudgetFieldsDto {}

/** PATCH /api/v1/budgets/{id}: absent fields are unchanged; a given scope replaces the whole scope. */
export class PatchBudgetBody extends BudgetFieldsDto {}

/** GET /api/v1/budgets */
export class ListBudgetsQuery {
  @IsOptional() @IsString() @IsNotEmpty() tenant?: string;
}
