// application/x-www-form-urlencoded bodies and query strings, and Content-Type parameters, read the way Go's
// net/url and mime packages read them.

export class DuplicateModelError extends Error {
  constructor() {
    super('more than one "model" field');
  }
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** Go's url.QueryUnescape (`plus` true) or url.PathUnescape; null on a malformed escape. */
export function goUnescape(s: string, plus: boolean): string | null {
  if (!s.includes('%') && !(plus && s.includes('+'))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!HEX.test(h)) return null;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === 0x2b && plus) {
      bytes.push(0x20);
    } else {
      const enc = Buffer.from(s[i], 'utf8');
      for (const b of enc) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The `model` field of a form text; names match case-insensitively and a repeated field is an error. */
export function formModel(s: string): string {
  let model = '';
  let seen = false;
  for (const kv of s.split('&')) {
    const eq = kv.indexOf('=');
    const rawKey = eq < 0 ? kv : kv.slice(0, eq);
    const k = goUnescape(rawKey, true) ?? rawKey;
    if (k.toLowerCase() !== 'model') continue;
    if (seen) throw new DuplicateModelError();
    seen = true;
    const v = goUnescape(eq < 0 ? '' : kv.slice(eq + 1), true);
    if (v === null) throw new Error('malformed "model" field');
    model = v;
  }
  return model;
}

/** A media type (lower-case) and its parameters (names lower-case); an empty type when malformed. */
export function parseMediaType(v: string): { type: string; params: Record<string, string> } {
  const semi = v.indexOf(';');
  const type = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+(\/[!#$%&'*+\-.^_`|~0-9a-z]+)?$/.test(type)) return { type: '', params };
  let rest = semi < 0 ? '' : v.slice(semi);
  const param =
    /^;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\s*/;
  while (rest.trim() !== '') {
    const m = param.exec(rest);
    if (!m) {
      if (/^;\s*$/.test(rest)) break;
      return { type: '', params: {} };
    }
    const name = m[1].toLowerCase();
    if (Object.hasOwn(params, name)) return { type: '', params: {} };
    params[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    rest = rest.slice(m[0].length);
  }
  return { type, params };
}
