// Model names in a Gemini-native URL: …/models/{model}:{action} and …/tunedModels/{model}:{action}.
import { goUnescape } from './form';
import { trimSpace } from './text';

/**
 * The models a Gemini-native path names (tuned models as `tunedModels/{id}`), or null when the path is
 * malformed. The path is unescaped until it stops changing, so %3A and double encodings cannot hide the
 * colon; dot segments are resolved. A model segment without an action (metadata) names no model.
 */
export function geminiUrlModels(escapedPath: string): string[] | null {
  let p = escapedPath;
  for (let n = 0; n < 4; n++) {
    const u = goUnescape(p, false);
    if (u === null) return null;
    if (u === p) break;
    p = u;
  }
  const segs: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < segs.length; i++) {
    const s = segs[i].toLowerCase();
    const tuned = s === 'tunedmodels';
    if (!tuned && s !== 'models') continue;
    const next = segs[i + 1];
    const first = next.indexOf(':');
    if (first < 0) continue;
    // Google splits the custom verb at the last colon; a lenient parser might split at the first. Check both.
    const names = [next.slice(0, first)];
    const last = next.lastIndexOf(':');
    if (last !== first) names.push(next.slice(0, last));
    for (const name of names) out.push(tuned ? 'tunedModels/' + name : name);
  }
  return out;
}

/** Gemini's resource name `models/x` is matched as `x`; tuned models keep their prefix. */
export function stripModelsPrefix(m: string): string {
  const t = trimSpace(m);
  return t.length > 7 && t.slice(0, 7).toLowerCase() === 'models/' ? t.slice(7) : m;
}

/**
 * Whether a request creates an OpenAI-style batch job, whose models live in an uploaded file: POST
 * …/batches (OpenAI, Groq, …) or …/batch/jobs (Mistral).
 */
export function isFileBatch(method: string, escapedPath: string): boolean {
  if (method.toUpperCase() !== 'POST') return false;
  const p = (goUnescape(escapedPath, false) ?? escapedPath).replace(/\/+$/, '').toLowerCase();
  return p.endsWith('/batches') || p.endsWith('/batch/jobs');
}
