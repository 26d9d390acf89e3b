// The admin token on a real PostgreSQL: configured, or generated once and shared through its stored hash.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { PersistenceModule } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { DataSource } from 'typeorm';
import { API_OPTIONS, type ApiOptions } from '../api.options';
import { API_MIGRATIONS } from '../api.module';
import { AdminTokenService } from './admin-token.service';

jest.setTimeout(30_000);

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

async function tokenService(options: ApiOptions) {
  const ref = await Test.createTestingModule({
    imports: [
      PersistenceModule.forRoot({
        databaseUrl: pg.url,
        dataDir: mkdtempSync(join(tmpdir(), 'api-token-')),
        migrations: API_MIGRATIONS,
      }),
    ],
    providers: [{ provide: API_OPTIONS, useValue: options }, AdminTokenService],
  }).compile();
  await ref.init();
  return { service: ref.get(AdminTokenService), db: ref.get(DataSource), close: () => ref.close() };
}

describe('AdminTokenService', () => {
  it('generates a token once, announces it once, stores only its hash, and every process shares it', async () => {
    const announced: string[] = [];
    const options = { adminToken: '', announceToken: (t: string) => announced.push(t) };
    const [a, b] = await Promise.all([tokenService(options), tokenService(options)]);
    try {
      expect(announced).toHaveLength(1);
      const token = announced[0];
      expect(token).toMatch(/^aso_admin_[A-Za-z0-9_-]{43}$/);
      expect(a.service.verify(token)).toBe(true);
      expect(b.service.verify(token)).toBe(true);
      expect(a.service.verify(token + 'x')).toBe(false);
      expect(a.service.verify('')).toBe(false);
      expect(a.service.verify(undefined)).toBe(false);
      const rows: { token_sha256: string }[] = await a.db.query('SELECT token_sha256 FROM admin_tokens');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token);
      const c = await tokenService(options);
      expect(announced).toHaveLength(1);
      expect(c.service.verify(token)).toBe(true);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('uses a configured token instead of the stored one', async () => {
    const announced: string[] = [];
    const s = await tokenService({
      adminToken: 'configured-secret',
      announceToken: (t) => announced.push(t),
    });
    try {
      expect(s.service.verify('configured-secret')).toBe(true);
      expect(s.service.verify('other')).toBe(false);
      expect(announced).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
