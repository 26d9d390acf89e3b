import { IsIn, IsOptional, IsString, Matches } from 'class-validator';

/** The query of GET /api/v1/events and /denials, apart from the `dim.<key>` parameters. */
export class EventQueryDto {
  @IsOptional() @IsString() request_id?: string;
  @IsOptional() @IsString() provider?: string;
  /** Events only. */
  @IsOptional() @IsString() model?: string;
  @IsOptional() @IsString() key_id?: string;
  @IsOptional() @IsString() tenant_id?: string;
  /** RFC 3339, inclusive. */
  @IsOptional() @IsString() from?: string;
  /** RFC 3339, exclusive. */
  @IsOptional() @IsString() to?: string;
  /** Page size (JSON: default 100, capped at 1000); the total row count of an export. */
  @IsOptional() @Matches(/^[1-9]\d{0,8}$/, { message: 'limit must be a positive integer' }) limit?: string;
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  /** The `next` of the previous page. */
  @IsOptional() @IsString() next?: string;
  @IsOptional() @IsIn(['json', 'ndjson', 'csv']) format?: 'json' | 'ndjson' | 'csv';
}
