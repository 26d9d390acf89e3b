import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read from package.json at the repository root (dist/ sits beside it). */
export function spendopsVersion(): string {
  for (const up of [
    ['..', '..', '..', '..'],
    ['..', '..', '..'],
  ]) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, ...up, 'package.json'), 'utf8')) as {
        version?: string;
      };
      if (pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'dev';
}
