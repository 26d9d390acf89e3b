// The model and action of a Gemini-native path: /v1beta/models/{model}:{action} (or tunedModels/...).

export function geminiModelFromPath(path: string): { model: string; action: string } | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts = path.slice(1).split('/');
  if (parts.length < 3) return undefined;
  const [version, coll] = parts;
  if (version !== 'v1' && version !== 'v1beta' && version !== 'v1alpha') return undefined;
  if (coll !== 'models' && coll !== 'tunedModels') return undefined;
  const rest = parts.slice(2).join('/');
  const colon = rest.indexOf(':');
  if (colon < 0) return undefined;
  const name = rest.slice(0, colon);
  const action = rest.slice(colon + 1);
  if (!validModelId(name) || !validAction(action)) return undefined;
  return { model: coll === 'tunedModels' ? `tunedModels/${name}` : name, action };
}

function validModelId(s: string): boolean {
  if (s.length === 0 || s.length > 128 || s.includes('..')) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
    if ((c === '.' || c === '-' || c === '_') && i > 0) continue;
    return false;
  }
  return true;
}

function validAction(s: string): boolean {
  return /^[a-z][a-zA-Z]{0,63}$/.test(s);
}
