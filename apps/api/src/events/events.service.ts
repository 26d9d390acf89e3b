// Events and denials from the read model: JSON pages, or NDJSON/CSV exports over every page.
import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import {
  USAGE_READ_MODEL,
  type EventFilter,
  type RequestDeniedV1,
  type UsageEventView,
  type UsageReadModel,
} from '@spendops/contracts';
import { readModelCall } from '../common/read-model-errors';
import { csvLine, csvRecord, DENIAL_FIELDS, EVENT_FIELDS } from './csv';
import type { EventRequest } from './event-filter';
import { exportStream, type Page } from './export-stream';

export interface ExportBody {
  contentType: string;
  filename: string;
  stream: Readable;
}

@Injectable()
export class EventsService {
  constructor(@Inject(USAGE_READ_MODEL) private readonly readModel: UsageReadModel) {}

  async eventsPage(filter: EventFilter): Promise<{ events: UsageEventView[]; next: string | null }> {
    const page = await readModelCall(() => this.readModel.findEvents(filter));
    return { events: page.events, next: page.next };
  }

  async denialsPage(filter: EventFilter): Promise<{ denials: RequestDeniedV1[]; next: string | null }> {
    const page = await readModelCall(() => this.readModel.findDenials(filter));
    return { denials: page.denials, next: page.next };
  }

  exportEvents(req: EventRequest): Promise<ExportBody> {
    return this.export(req, 'events', EVENT_FIELDS, async (f): Promise<Page<UsageEventView>> => {
      const p = await this.readModel.findEvents(f);
      return { items: p.events, next: p.next };
    });
  }

  exportDenials(req: EventRequest): Promise<ExportBody> {
    return this.export(req, 'denials', DENIAL_FIELDS, async (f): Promise<Page<RequestDeniedV1>> => {
      const p = await this.readModel.findDenials(f);
      return { items: p.denials, next: p.next };
    });
  }

  private async export<T extends object>(
    req: EventRequest,
    name: string,
    fields: readonly string[],
    read: (f: EventFilter) => Promise<Page<T>>,
  ): Promise<ExportBody> {
    const csv = req.format === 'csv';
    const stream = await readModelCall(() =>
      exportStream(
        read,
        req.filter,
        req.maxTotal,
        csv ? (row: T) => csvRecord(fields, row) : (row: T) => JSON.stringify(row) + '\n',
        csv ? csvLine(fields) : '',
      ),
    );
    return {
      contentType: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      filename: `${name}.${csv ? 'csv' : 'ndjson'}`,
      stream,
    };
  }
}
