// The `model` field of a multipart/form-data body (audio transcription, image edits), read like Go's
// mime/multipart: file parts are skipped, only the `model` part is read (at most 1 KiB).
import { DuplicateModelError, parseMediaType } from './form';

const MAX_MODEL_FIELD = 1024;

export class MultipartError extends Error {}

export function multipartModel(body: Buffer, boundary: string | undefined): string {
  if (!boundary) throw new MultipartError('multipart body without boundary');
  const malformed = () => new MultipartError('malformed multipart body');
  const dash = Buffer.from('--' + boundary, 'latin1');
  const delim = Buffer.from('\r\n--' + boundary, 'latin1');
  // The first boundary line may start the body or follow a preamble.
  let pos: number;
  if (body.subarray(0, dash.length).equals(dash)) pos = dash.length;
  else {
    const at = body.indexOf(delim);
    if (at < 0) throw malformed();
    pos = at + delim.length;
  }
  let model = '';
  let seen = false;
  for (;;) {
    // After a boundary: `--` ends the body; otherwise optional linear whitespace and CRLF, then a part.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return model;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw malformed();
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    let contentStart: number;
    let headerText: string;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      headerText = '';
      contentStart = pos + 2;
    } else {
      if (headerEnd < 0) throw malformed();
      headerText = body.toString('latin1', pos, headerEnd);
      contentStart = headerEnd + 4;
    }
    const next = body.indexOf(delim, contentStart);
    if (next < 0) throw malformed();
    const headers = parsePartHeaders(headerText);
    if (headers === null) throw malformed();
    const disposition = parseMediaType(headers['content-disposition'] ?? '');
    const name = disposition.type === 'form-data' ? (disposition.params['name'] ?? '') : '';
    if (name.toLowerCase() === 'model') {
      if (seen) throw new DuplicateModelError();
      seen = true;
      const cte = (headers['content-transfer-encoding'] ?? '').toLowerCase();
      let value = body.subarray(contentStart, next);
      if (cte === 'quoted-printable') value = decodeQuotedPrintable(value);
      else if (!['', '7bit', '8bit', 'binary'].includes(cte)) {
        throw new MultipartError('unsupported Content-Transfer-Encoding on the "model" field');
      }
      if (value.length > MAX_MODEL_FIELD) throw new MultipartError('"model" field too long');
      model = value.toString('utf8');
    }
    pos = next + delim.length;
  }
}

function parsePartHeaders(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (text === '') return out;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!Object.hasOwn(out, name)) out[name] = line.slice(colon + 1).trim();
  }
  return out;
}

function decodeQuotedPrintable(b: Buffer): Buffer {
  const s = b.toString('latin1').replace(/=\r?\n/g, '');
  return Buffer.from(
    s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
}
