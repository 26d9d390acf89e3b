// Streams an export page by page (keyset pages of EXPORT_PAGE rows), so neither the database nor this process
// ever holds the whole result. The first page is read before the response starts: a bad filter is still an
// ordinary error response; a failure later cuts the transfer.
import { Readable } from 'node:stream';
import type { EventFilter } from '@spendops/contracts';

export const EXPORT_PAGE = 1000;

export interface Page<T> {
  items: T[];
  next: string | null;
}

export type PageReader<T> = (filter: EventFilter) => Promise<Page<T>>;

export async function exportStream<T>(
  read: PageReader<T>,
  filter: EventFilter,
  maxTotal: number,
  encode: (row: T) => string,
  head = '',
  pageSize = EXPORT_PAGE,
): Promise<Readable> {
  const sizeFor = (done: number) => (maxTotal > 0 ? Math.min(pageSize, maxTotal - done) : pageSize);
  const first = await read({ ...filter, limit: sizeFor(0) });
  async function* lines(): AsyncGenerator<string> {
    if (head) yield head;
    let page = first;
    let done = 0;
    for (;;) {
      // One chunk per page: few writes, and at most one page in memory.
      if (page.items.length > 0) yield page.items.map(encode).join('');
      done += page.items.length;
      if (!page.next || (maxTotal > 0 && done >= maxTotal)) return;
      page = await read({ ...filter, limit: sizeFor(done), next: page.next });
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
