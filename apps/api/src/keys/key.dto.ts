// Bodies and queries of the key routes. Semantic checks (model patterns, limits) are the auth service's; these
// refuse unknown fields and wrong types before a command is sent.
import { Type } from 'class-transformer';
import type { RateLimits } from '@spendops/contracts';
import {
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class KeyPolicyDto {
  @IsOptional() @IsString({ each: true }) providers?: string[];
  @IsOptional() @IsString({ each: true }) models?: string[];
  @IsOptional() @IsBoolean() dims_required?: boolean;
  @IsOptional() @IsString({ each: true }) dims_allowed?: string[];
  @IsOptional() @IsInt() @Min(0) max_dims?: number;
  @IsOptional() @IsInt() @Min(0) max_key_len?: number;
  @IsOptional() @IsInt() @Min(0) max_value_len?: number;
  @IsOptional() @IsObject() dims_pinned?: Record<string, string>;
  @IsOptional() @IsObject() dims_default?: Record<string, string>;
  /** Checked field by field by the auth service (libs/policy rateLimitsProblems); null removes the limits. */
  @IsOptional() @IsObject() rate_limits?: RateLimits | null;
}

/** POST /api/v1/keys */
export class CreateKeyBody {
  @IsString() @IsNotEmpty() @Length(1, 200) name!: string;
  @IsOptional() @IsString() @Length(0, 200) tenant?: string;
  @IsOptional() @ValidateNested() @Type(() => KeyPolicyDto) policy?: KeyPolicyDto;
}

/** PATCH /api/v1/keys/{id}: absent fields are unchanged; `active: false` revokes, `true` activates. */
export class PatchKeyBody {
  @IsOptional() @ValidateNested() @Type(() => KeyPolicyDto) policy?: KeyPolicyDto;
  @IsOptional() @IsBoolean() active?: boolean;
}

/** The longest grace a rotation may give the previous secret: 90 days. */
export const MAX_GRACE_SECONDS = 90 * 24 * 3600;

/** POST /api/v1/keys/{id}/rotate */
export class RotateKeyBody {
  @IsOptional() @IsInt() @Min(0) @Max(MAX_GRACE_SECONDS) grace_seconds?: number;
}

/** GET /api/v1/keys */
export class ListKeysQuery {
  @IsOptional() @IsString() tenant?: string;
}

/** GET /api/v1/audit */
export class AuditQuery {
  @IsOptional() @IsString() key_id?: string;
}
