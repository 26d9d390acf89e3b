// The admin API's bearer token. Configured (`SPENDOPS_ADMIN_TOKEN`) or, on the first start without one,
// generated, printed once, and only its hash stored in the database (so every api process shares it).
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { API_OPTIONS, type ApiOptions } from '../api.options';

const BOOTSTRAP_LOCK = 0x61646d696e546f6bn; // "adminTok"

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

@Injectable()
export class AdminTokenService implements OnModuleInit {
  private digest: Buffer | null = null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.options.adminToken) {
      this.digest = Buffer.from(sha256Hex(this.options.adminToken), 'hex');
      return;
    }
    const generated = await this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK.toString()]);
      const rows: { token_sha256: string }[] = await tx.query(
        'SELECT token_sha256 FROM admin_tokens ORDER BY id DESC LIMIT 1',
      );
      if (rows.length > 0) {
        this.digest = Buffer.from(rows[0].token_sha256, 'hex');
        return null;
      }
      const token = `aso_admin_${randomBytes(32).toString('base64url')}`;
      await tx.query("INSERT INTO admin_tokens (token_sha256, source) VALUES ($1, 'bootstrap')", [
        sha256Hex(token),
      ]);
      this.digest = Buffer.from(sha256Hex(token), 'hex');
      return token;
    });
    if (generated) this.options.announceToken(generated);
  }

  /** Constant-time check of a presented token. */
  verify(presented: string | undefined): boolean {
    if (!presented || !this.digest) return false;
    return timingSafeEqual(Buffer.from(sha256Hex(presented), 'hex'), this.digest);
  }
}
