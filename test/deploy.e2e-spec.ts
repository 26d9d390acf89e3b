// docker-compose.yml and the Dockerfile cannot run here (no container engine), so their structure is checked
// against the code: every app has its container started the way the tests start processes, every variable a
// distributed process needs is set, health checks use the ops endpoints, the ports are the documented ones.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SERVICE_NAMES } from '@spendops/config';

const root = join(__dirname, '..');

interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

describe('docker-compose.yml', () => {
  it('runs one container per app, each as `serve --services <app>` of the one image', () => {
    for (const app of SERVICE_NAMES) {
      const svc = compose.services[app];
      expect(svc).toBeDefined();
      expect(svc.command).toEqual(['serve', '--services', app]);
      expect(svc.build).toBe('.');
      expect(svc.image).toBe('spendops:local');
    }
  });

  it('gives every app the shared database, broker, secrets and a listen address', () => {
    for (const app of SERVICE_NAMES) {
      const env = compose.services[app].environment ?? {};
      for (const name of [
        'DATABASE_URL',
        'SPENDOPS_AMQP_URL',
        'SPENDOPS_SERVER_SECRET',
        'SPENDOPS_ADMIN_TOKEN',
        'SPENDOPS_ADDR',
        'SPENDOPS_DATA_DIR',
      ]) {
        expect({ app, name, set: Boolean(env[name]) }).toEqual({ app, name, set: true });
      }
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(env.SPENDOPS_AMQP_URL).toMatch(/^amqp:\/\/[^@]+@rabbitmq:5672$/);
      expect(env.SPENDOPS_ADDR).toBe('0.0.0.0:8080');
    }
  });

  it('starts apps after healthy PostgreSQL and RabbitMQ and checks each app on /readyz', () => {
    for (const app of SERVICE_NAMES) {
      const svc = compose.services[app];
      expect(svc.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        rabbitmq: { condition: 'service_healthy' },
      });
      expect(svc.healthcheck?.test.join(' ')).toContain('/readyz');
    }
    expect(compose.services.postgres.healthcheck).toBeDefined();
    expect(compose.services.rabbitmq.healthcheck).toBeDefined();
    expect(compose.services.rabbitmq.image).toMatch(/management/);
  });

  it('publishes the proxy on 8080 and the admin API on 8081, with named volumes', () => {
    expect(compose.services.proxy.ports).toEqual(['8080:8080']);
    expect(compose.services.api.ports).toEqual(['8081:8080']);
    for (const volume of ['pgdata', 'rabbitmq', 'proxy-spool'])
      expect(compose.volumes).toHaveProperty(volume);
    expect(compose.services.proxy.volumes).toContain('proxy-spool:/var/lib/spendops');
  });
});

describe('Dockerfile', () => {
  it('builds with the same commands as a user and starts the same launcher the tests start', () => {
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('RUN npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/spendops"]');
  });

  it('copies only paths that exist, and everything the built CLI reads at run time', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+(?: \S+)*) \S+$/gm)].flatMap((m) =>
      m[1].split(' '),
    );
    for (const path of copied)
      expect({ path, exists: existsSync(join(root, path)) }).toEqual({ path, exists: true });
    // Read at run time: the price catalog, the launcher; dist/ (with the dashboard) comes from the build stage.
    expect(copied).toEqual(expect.arrayContaining(['bin', 'apps/pricing/catalog']));
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
  });
});
