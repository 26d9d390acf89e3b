import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Only the SHA-256 of the admin token is stored; every api process of a deployment shares it. */
export class AdminTokenSchema1733000100000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE admin_tokens (
        id           serial PRIMARY KEY,
        token_sha256 text NOT NULL,
        source       text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE admin_tokens');
  }
}
