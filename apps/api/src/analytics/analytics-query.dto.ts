import { IsIn, IsNotEmpty, IsOptional, IsString } from 'class-validator';

/** GET /api/v1/analytics */
export class AnalyticsQueryDto {
  /** RFC 3339, inclusive (buckets starting at or after it). */
  @IsString() @IsNotEmpty() from!: string;
  /** RFC 3339, exclusive. */
  @IsString() @IsNotEmpty() to!: string;
  /** Bucket size (default day); `auto`: hour for ranges up to 2 days, day beyond. */
  @IsOptional() @IsIn(['hour', 'day', 'auto']) interval?: 'hour' | 'day' | 'auto';
  /** Comma-separated: tenant_id, api_key_id, provider, model, dim:<key> (one dimension, only with tenant_id). */
  @IsOptional() @IsString() group_by?: string;
  @IsOptional() @IsString() tenant_id?: string;
  /** The most groups listed and given a series (default 10, at most 1000); the rest are summed as `other`. */
  @IsOptional() @IsString() limit?: string;
}
