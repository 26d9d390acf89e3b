import { IsNotEmpty, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

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
