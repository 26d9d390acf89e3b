import { Controller, Get, Query, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import type { StreamReply } from '../common/reply';
import { parseEventQuery } from './event-filter';
import { EventsService, type ExportBody } from './events.service';

function sendExport(reply: StreamReply, body: ExportBody): void {
  reply
    .status(200)
    .header('Content-Type', body.contentType)
    .header('Content-Disposition', `attachment; filename="${body.filename}"`)
    .header('Cache-Control', 'no-store')
    .send(body.stream);
}

/** GET /api/v1/events and /api/v1/denials: filtered keyset pages, or a streamed NDJSON/CSV export. */
@Controller('api/v1')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('events')
  async listEvents(@Query() query: Record<string, unknown>, @Res() reply: StreamReply): Promise<void> {
    const req = parseEventQuery(query);
    if (req.format === 'json') {
      sendJson(reply, await this.events.eventsPage(req.filter));
      return;
    }
    sendExport(reply, await this.events.exportEvents(req));
  }

  @Get('denials')
  async listDenials(@Query() query: Record<string, unknown>, @Res() reply: StreamReply): Promise<void> {
    const req = parseEventQuery(query);
    if (req.format === 'json') {
      sendJson(reply, await this.events.denialsPage(req.filter));
      return;
    }
    sendExport(reply, await this.events.exportDenials(req));
  }
}

function sendJson(reply: StreamReply, body: object): void {
  // A JSON page is bounded (at most 1000 rows): serialising it whole is fine.
  reply
    .status(200)
    .header('Content-Type', 'application/json')
    .header('Cache-Control', 'no-store')
    .send(JSON.stringify(body));
}
