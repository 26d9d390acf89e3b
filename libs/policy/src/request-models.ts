// Every model name a request carries: the URL (Gemini-native paths), the query's `model`, and the body (JSON
// object, multipart or form). Each must be allowed for the request to pass.
import type { ProviderDialect } from '@spendops/contracts';
import { BadJsonText, jsonObjectText } from './json-text';
import { DEFAULT_MAX_DECODED_BYTES, contentEncodings, decodeBody } from './body-decode';
import { scanJsonBody } from './body-models';
import { type PolicyDenial, modelDenial, MSG_UNCHECKABLE, uncheckable } from './denial';
import { formModel, parseMediaType } from './form';
import { geminiUrlModels, isFileBatch, stripModelsPrefix } from './gemini-path';
import { multipartModel } from './multipart';

/** What the policy needs to know about one request's model sources. */
export interface ModelRequest {
  /** Route's provider name (canonical). */
  provider: string;
  /** The provider's dialect; '' means the built-in provider's dialect, else openai-compatible. */
  dialect?: ProviderDialect | '';
  method?: string;
  /** Path relative to the provider route, still escaped as the client sent it, without the query. */
  path: string;
  query?: string;
  /** First Content-Type value. */
  contentType?: string;
  contentTypeRepeated?: boolean;
  /** Every Content-Encoding value, joined with ','. */
  contentEncoding?: string;
  body?: Buffer | null;
  bodyTruncated?: boolean;
  maxDecodedBytes?: number;
}

export interface FoundModels {
  /** The URL's model for Gemini-native paths, else the body's `model`, else the query's; '' when none. */
  primary: string;
  /** Every name that must be allowed. */
  all: string[];
}

const BUILTIN_DIALECTS: Readonly<Record<string, ProviderDialect>> = {
  anthropic: 'anthropic',
  google: 'gemini',
};

export function dialectOf(provider: string, dialect: ProviderDialect | '' | undefined): ProviderDialect {
  return dialect || BUILTIN_DIALECTS[provider] || 'openai-compatible';
}

/**
 * Extracts model names. When `strict` (the key's model list restricts this provider) it stops at the first
 * reason the request cannot be checked; otherwise it returns what it could find, for recording.
 * `primaryOnly` (only without `strict`) reads a JSON body only up to its top-level `model`: `found.primary` is
 * the same, `found.all` may then miss names (the policy does not read it for an unrestricted key).
 */
export function requestModels(
  req: ModelRequest,
  strict: boolean,
  primaryOnly = false,
): { found: FoundModels; denial?: PolicyDenial } {
  let urlModels: string[] = [];
  let bodyPrimary = '';
  let queryModel = '';
  const all: string[] = [];
  const result = (denial?: PolicyDenial) => ({
    found: { primary: urlModels[0] ?? (bodyPrimary || queryModel), all },
    denial,
  });

  const dialect = dialectOf(req.provider, req.dialect);
  const gemini = dialect === 'gemini';
  if (gemini) {
    const ms = geminiUrlModels(req.path);
    if (ms === null && strict) return result(uncheckable(400, 'malformed request path'));
    urlModels = ms ?? [];
    all.push(...urlModels);
  }
  if (req.query) {
    try {
      queryModel = formModel(req.query);
      if (queryModel !== '') all.push(queryModel);
    } catch (e) {
      if (strict) return result(uncheckable(400, 'query string: ' + (e as Error).message));
    }
  }
  if (strict && dialect === 'openai-compatible' && isFileBatch(req.method ?? 'POST', req.path)) {
    return result(modelDenial(403, MSG_UNCHECKABLE + 'batch jobs read their models from an uploaded file'));
  }
  const raw = req.body ?? null;
  if ((raw === null || raw.length === 0) && !req.bodyTruncated) return result();
  if (req.bodyTruncated && strict) return result(uncheckable(413, 'body too large to inspect'));
  const encoded = contentEncodings(req.contentEncoding).length > 0;
  // Decompressing costs memory and time; only a restrictive list needs it (the model then goes unreported).
  if (!strict && encoded) return result();
  const decoded = decodeBody(
    raw ?? Buffer.alloc(0),
    req.contentEncoding,
    req.maxDecodedBytes || DEFAULT_MAX_DECODED_BYTES,
  );
  if (!decoded.ok) return result(decoded.denial);
  if (req.contentTypeRepeated && strict) return result(uncheckable(400, 'more than one Content-Type header'));
  const { type, params } = parseMediaType(req.contentType ?? '');
  const scanned = { primary: '', all: [] as string[] };
  let bodyModels: string[] = scanned.all;
  try {
    if (type === 'multipart/form-data') {
      bodyPrimary = multipartModel(decoded.body, params['boundary']);
      if (bodyPrimary !== '') bodyModels = [bodyPrimary];
    } else {
      const text = jsonObjectText(decoded.body);
      if (text.isObject) {
        scanJsonBody(text.text, scanned, primaryOnly && !strict);
        bodyPrimary = scanned.primary;
      } else if (type === 'application/x-www-form-urlencoded') {
        bodyPrimary = formModel(decoded.body.toString('latin1'));
        if (bodyPrimary !== '') bodyModels = [bodyPrimary];
      }
    }
  } catch (e) {
    if (strict)
      return result(uncheckable(400, e instanceof BadJsonText ? 'invalid JSON body' : (e as Error).message));
    bodyPrimary = scanned.primary; // what the scan found before the error is still recorded
  }
  if (gemini) {
    bodyModels = bodyModels.map(stripModelsPrefix);
    bodyPrimary = stripModelsPrefix(bodyPrimary);
  }
  all.push(...bodyModels);
  return result();
}
