// Serves the dashboard SPA: index.html at `/` and at every page path (deep links), the bundled files under
// /assets/. Only the listed page paths fall back to index.html, so unknown paths keep their JSON 404s.
import { join } from 'node:path';
import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { DASHBOARD_DIR, isAssetName, readAsset } from './dashboard-assets';

/** The part of Fastify's reply these routes use. */
interface FileReply {
  status(code: number): FileReply;
  header(name: string, value: string): FileReply;
  send(body: Buffer | string): FileReply;
}

/** The dashboard's pages; `/requests/:id` is a request's detail. */
export const DASHBOARD_PAGES = [
  'overview',
  'explorer',
  'requests',
  'requests/:id',
  'denials',
  'keys',
  'pricing',
  'budgets',
];

// The SPA talks only to its own origin; no inline script, no framing.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

@Controller()
export class DashboardController {
  constructor(@Inject(DASHBOARD_DIR) private readonly dir: string | null) {}

  @Get(['', ...DASHBOARD_PAGES])
  async page(@Res() reply: FileReply): Promise<void> {
    const index = await readAsset(this.dir, 'index.html');
    if (!index) {
      reply
        .status(503)
        .header('Content-Type', 'text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build`.\n');
      return;
    }
    reply
      .status(200)
      .header('Content-Type', index.contentType)
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CSP)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'no-referrer')
      .send(index.body);
  }

  @Get('assets/:name')
  async asset(@Param('name') name: string, @Res() reply: FileReply): Promise<void> {
    const file = isAssetName(name) ? await readAsset(this.dir, join('assets', name)) : null;
    if (!file) throw new NotFoundException(`No dashboard asset ${name}`);
    reply
      .status(200)
      .header('Content-Type', file.contentType)
      // Names carry a content hash (build.js), so a browser may keep them.
      .header('Cache-Control', 'public, max-age=31536000, immutable')
      .header('X-Content-Type-Options', 'nosniff')
      .send(file.body);
  }
}
