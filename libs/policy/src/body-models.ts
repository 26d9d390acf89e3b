// The model names of a JSON object body: top-level `model` (the primary one), `models` (OpenRouter fallbacks),
// `fallbacks` (strings or objects with `model`), `requests[]` (`model` or `params.model`: Gemini batch
// embeddings, Anthropic message batches), `session.model` (OpenAI realtime) and `data_source.model` (evals).
// Keys match under Unicode case folding after unescaping; a key seen twice is an error, as is a `model` that is
// neither a string nor null.
import { isUtf8 } from 'node:buffer';
import { DuplicateModelError } from './form';
import { JsonScanner, JsonSyntaxError, type RawString } from './json-scanner';

export class ModelNotStringError extends Error {
  constructor() {
    super('"model" is not a string');
  }
}

export class InvalidJsonBodyError extends Error {
  constructor() {
    super('invalid JSON body');
  }
}

export interface BodyModels {
  primary: string;
  all: string[];
}

const FIELDS = ['model', 'models', 'fallbacks', 'requests', 'session', 'data_source'] as const;
type Field = (typeof FIELDS)[number];
/** The fields have distinct lengths, so a plain key can only be the one of its length. */
const FIELD_BY_LENGTH: ReadonlyArray<Field | undefined> = (() => {
  const byLength: Array<Field | undefined> = [];
  for (const f of FIELDS) byLength[f.length] = f;
  return byLength;
})();

/**
 * Throws DuplicateModelError, ModelNotStringError or InvalidJsonBodyError; `out` then keeps what was found
 * before the error (recorded for keys whose list does not restrict the provider).
 *
 * `primaryOnly` stops at the first top-level `model`: from there on nothing can change `out.primary` (a second
 * `model` is an error that keeps the first, and errors keep what was found), so a key whose list does not
 * restrict the provider learns the same primary model without reading the rest of the body; `out.all` is then
 * incomplete and nothing is thrown for what comes after.
 */
export function scanJsonBody(
  b: Buffer,
  out: BodyModels = { primary: '', all: [] },
  primaryOnly = false,
): BodyModels {
  if (!isUtf8(b)) throw new InvalidJsonBodyError();
  const s = new JsonScanner(b);
  const seen = new Set<string>();
  const mark = (f: string) => {
    if (seen.has(f)) throw new DuplicateModelError();
    seen.add(f);
  };
  try {
    const stopped = s.object((key) => {
      const field = key.esc ? FIELDS.find((f) => s.keyIs(key, f)) : plainKeyField(s, key);
      switch (field) {
        case 'model': {
          mark(field);
          const m = modelValue(s);
          if (m !== null) {
            out.primary = m;
            out.all.push(m);
          }
          return primaryOnly;
        }
        case 'models':
          mark(field);
          if (nullOrNotArray(s)) return;
          s.array(() => {
            const m = modelValue(s);
            if (m === null) throw new ModelNotStringError();
            out.all.push(m);
          });
          return;
        case 'fallbacks':
          mark(field);
          if (nullOrNotArray(s)) return;
          s.array(() => {
            const c = s.peek();
            if (c === 0x7b) nestedModels(s, out.all, false);
            else if (c === 0x22) out.all.push(modelValue(s)!);
            else {
              s.skip(1);
              throw new ModelNotStringError();
            }
          });
          return;
        case 'requests':
          mark(field);
          if (s.peek() !== 0x5b) return s.skip(1);
          s.array(() => (s.peek() === 0x7b ? nestedModels(s, out.all, true) : s.skip(2)));
          return;
        case 'session':
        case 'data_source':
          mark(field);
          if (s.peek() === 0x7b) return nestedModels(s, out.all, false);
          return s.skip(1);
        default:
          return s.skip(1);
      }
    });
    if (!stopped && !s.end()) throw new InvalidJsonBodyError();
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new InvalidJsonBodyError();
    throw e;
  }
  return out;
}

/** The field an unescaped key names; ASCII keys are matched by length and bytes, without building a string. */
function plainKeyField(s: JsonScanner, key: RawString): Field | undefined {
  const b = s.b;
  for (let k = key.start; k < key.end; k++) {
    if (b[k] >= 0x80) return FIELDS.find((f) => s.keyIs(key, f)); // may fold (ſ, the Kelvin sign)
  }
  const name = FIELD_BY_LENGTH[key.end - key.start];
  if (name === undefined) return undefined;
  for (let k = 0; k < name.length; k++) {
    const c = b[key.start + k];
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name.charCodeAt(k)) return undefined;
  }
  return name;
}

/** Consumes a value that is not an array (null is no model, anything else an error); false when an array is next. */
function nullOrNotArray(s: JsonScanner): boolean {
  const c = s.peek();
  if (c === 0x5b) return false;
  if (c === 0x6e) {
    s.lit('null');
    return true;
  }
  s.skip(1);
  throw new ModelNotStringError();
}

/** A model value: a string, null (no model), anything else an error. */
function modelValue(s: JsonScanner): string | null {
  const c = s.peek();
  if (c === 0x22) return s.text(s.str());
  if (c === 0x6e) {
    s.lit('null');
    return null;
  }
  s.skip(1);
  throw new ModelNotStringError();
}

/** `model` (and with `params`, `params.model`) of an object inside a fallback or batch list. */
function nestedModels(s: JsonScanner, all: string[], params: boolean): void {
  let seenModel = false;
  let seenParams = false;
  s.object((key) => {
    if (s.keyIs(key, 'model')) {
      if (seenModel) throw new DuplicateModelError();
      seenModel = true;
      const m = modelValue(s);
      if (m !== null) all.push(m);
      return;
    }
    if (params && s.keyIs(key, 'params')) {
      if (seenParams) throw new DuplicateModelError();
      seenParams = true;
      if (s.peek() === 0x7b) return nestedModels(s, all, false);
    }
    s.skip(3);
  });
}
