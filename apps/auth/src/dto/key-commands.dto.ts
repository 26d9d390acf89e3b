// class-validator shapes of the key commands; a bad request is refused with an error naming the field.
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import type { RateLimits } from '@spendops/contracts';

export class PolicyPatchDto {
  @IsOptional() @IsString({ each: true }) providers?: string[];
  @IsOptional() @IsString({ each: true }) models?: string[];
  @IsOptional() @IsBoolean() dims_required?: boolean;
  @IsOptional() @IsString({ each: true }) dims_allowed?: string[];
  @IsOptional() @IsInt() max_dims?: number;
  @IsOptional() @IsInt() max_key_len?: number;
  @IsOptional() @IsInt() max_value_len?: number;
  @IsOptional() @IsObject() dims_pinned?: Record<string, string>;
  @IsOptional() @IsObject() dims_default?: Record<string, string>;
  /** Checked field by field by validatePolicy (docs/rate-limits.md); null or `{}` removes the limits. */
  @IsOptional() @IsObject() rate_limits?: RateLimits | null;
}

export class ActorDto {
  @IsOptional() @IsString() @Length(0, 200) actor?: string;
}

export class CreateKeyDto extends ActorDto {
  @IsString() @Length(1, 200) name!: string;
  @IsOptional() @IsString() @Length(0, 200) tenant?: string;
  @IsOptional() @ValidateNested() @Type(() => PolicyPatchDto) policy?: PolicyPatchDto;
}

export class ListKeysDto {
  @IsOptional() @IsString() tenant?: string;
}

export class AuditListDto {
  @IsOptional() @IsString() @Length(0, 64) key_id?: string;
}

export class KeyIdDto extends ActorDto {
  @IsString() @Length(1, 64) id!: string;
}

export class RotateKeyDto extends KeyIdDto {
  @IsOptional() @IsInt() @Min(0) @Max(365 * 24 * 3600) grace_seconds?: number;
}

export class UpdatePolicyDto extends KeyIdDto {
  @ValidateNested() @Type(() => PolicyPatchDto) policy!: PolicyPatchDto;
}
