// Bundles the dashboard for `npm run build`: src/main.tsx → dist/dashboard/assets/app-<hash>.{js,css} and
// dist/dashboard/index.html naming them. The api app serves that folder (apps/api/src/dashboard).
'use strict';
const { build } = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const out = path.join(root, 'dist', 'dashboard');

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: path.join(__dirname, 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: path.join(out, 'assets'),
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`dashboard build: missing outputs in ${outputs.join(', ')}`);
  const html = fs
    .readFileSync(path.join(__dirname, 'src', 'index.html'), 'utf8')
    .replace('__JS__', js)
    .replace('__CSS__', css);
  fs.writeFileSync(path.join(out, 'index.html'), html);
  process.stdout.write(`dashboard: dist/dashboard (${js}, ${css})\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
