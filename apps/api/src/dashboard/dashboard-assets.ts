// Where the built dashboard lives and how its files are read: `npm run build` writes it to dist/dashboard
// (apps/dashboard/build.js). Only flat file names are served, so a path can never leave that folder.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const DASHBOARD_DIR = Symbol('DASHBOARD_DIR');

/** dist/dashboard from the sources (apps/api/src/dashboard) or the build (dist/apps/api/src/dashboard). */
export function locateDashboardDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.SPENDOPS_DASHBOARD_DIR) return env.SPENDOPS_DASHBOARD_DIR;
  const candidates = [
    join(__dirname, '..', '..', '..', '..', 'dist', 'dashboard'),
    join(__dirname, '..', '..', '..', '..', '..', 'dist', 'dashboard'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};

/** A name as build.js writes them (`app-3KQ7.js`): no slashes, no leading dot. */
export function isAssetName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) && !name.includes('..');
}

export interface AssetFile {
  body: Buffer;
  contentType: string;
}

/** The file, or null when it does not exist (or the dashboard was not built). */
export async function readAsset(dir: string | null, relative: string): Promise<AssetFile | null> {
  if (!dir) return null;
  try {
    const body = await readFile(join(dir, relative));
    return { body, contentType: CONTENT_TYPES[extname(relative)] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}
