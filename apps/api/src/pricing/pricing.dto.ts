import {
  IsBoolean,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsRFC3339,
  IsString,
  Length,
  Matches,
} from 'class-validator';

/** GET /api/v1/pricing/models */
export class ModelsQuery {
  @IsOptional() @IsString() provider?: string;
}

/** POST /api/v1/pricing/overrides: rates in USD per 1M tokens (decimal strings), a markup in percent, or both. */
export class AddOverrideBody {
  /** A tenant id, or "*" for every tenant. */
  @IsString() @IsNotEmpty() tenant_id!: string;
  @IsOptional() @IsString() provider?: string;
  /** A model name, a "prefix*" pattern, or "*". */
  @IsString() @IsNotEmpty() model!: string;
  @IsOptional() @IsObject() rates?: Record<string, string>;
  @IsOptional()
  @IsString()
  @Matches(/^-?\d+(\.\d+)?$/, { message: 'markup_pct must be a decimal string' })
  markup_pct?: string;
  @IsOptional() @IsString() @Length(0, 500) note?: string;
}

/** POST /api/v1/pricing/reprice: re-price stored events with the prices in force now (appends UsageRepriced). */
export class RepriceBody {
  /** RFC 3339, inclusive. */
  @IsOptional() @IsRFC3339() from?: string;
  /** RFC 3339, exclusive. */
  @IsOptional() @IsRFC3339() to?: string;
  @IsOptional() @IsString() @IsNotEmpty() model?: string;
  @IsOptional() @IsString() @IsNotEmpty() provider?: string;
  /** Only events whose cost is unknown (cost_source none). */
  @IsOptional() @IsBoolean() unpriced_only?: boolean;
}
