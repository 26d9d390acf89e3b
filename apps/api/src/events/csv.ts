// CSV of EVENT and DENIAL rows: a fixed header of the JSON field names (no first pass over the rows to learn
// dimension keys), empty cells for null, objects (dims, raw_usage) as JSON text, costs as their exact strings.

export { DENIAL_FIELDS, EVENT_FIELDS } from '@spendops/contracts';

/** One cell, quoted as RFC 4180 (and Go's encoding/csv) do. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',') + '\n';
}

export function csvRecord(fields: readonly string[], row: object): string {
  const r = row as Record<string, unknown>;
  return csvLine(fields.map((f) => r[f]));
}
