import { IsIn, IsNotEmpty, IsOptional, IsString } from 'class-validator';

/** GET /api/v1/analytics */
export class AnalyticsQueryDto {
  /** RFC 3339, inclusive (buckets starting at or after it). */
  @IsString() @IsNotEmpty() from!: string;
  /** RFC 3339, exclusive. */
  @IsString() @IsNotEmpty() to!: string;
  @IsOptional() @IsIn(['hour', 'day']) interval?: 'hour' | 'day';
  /** Comma-separated: tenant_id, api_key_id, provider, model, dim:<key> (one dimension, only with tenant_id). */
  @IsOptional() @IsString() group_by?: string;
  @IsOptional() @IsString() tenant_id?: string;
}
