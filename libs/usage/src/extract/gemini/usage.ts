// Gemini usageMetadata into the event convention: prompt includes tool-use prompt tokens, completion is
// candidates + thoughts (thinking is billed as output), cache/audio/image details are capped subsets.
import type { TokenCounts } from '@spendops/contracts';
import { zeroTokens } from '@spendops/contracts';
import { type JsonObject, type JsonValue, asArray, asString, isObject } from '../../json/exact-json';
import { satAdd, wireNum } from '../../json/numbers';

function modality(details: JsonValue | undefined, m: string): number {
  for (const d of asArray(details)) {
    if (isObject(d) && d.modality === m) return wireNum(d.tokenCount).v;
  }
  return 0;
}

export function normaliseGemini(u: JsonObject): { tokens: TokenCounts; tier: string } {
  const n = (k: string): number => wireNum(u[k]).v;
  const t = zeroTokens();
  t.prompt_tokens = satAdd(n('promptTokenCount'), n('toolUsePromptTokenCount'));
  t.completion_tokens = satAdd(n('candidatesTokenCount'), n('thoughtsTokenCount'));
  t.total_tokens = satAdd(t.prompt_tokens, t.completion_tokens);
  t.reasoning_tokens = n('thoughtsTokenCount');
  t.cache_read_tokens = Math.min(n('cachedContentTokenCount'), t.prompt_tokens);
  const p = u.promptTokensDetails;
  const tu = u.toolUsePromptTokensDetails;
  const c = u.candidatesTokensDetails;
  t.prompt_audio_tokens = Math.min(satAdd(modality(p, 'AUDIO'), modality(tu, 'AUDIO')), t.prompt_tokens);
  t.prompt_image_tokens = Math.min(
    satAdd(
      satAdd(modality(p, 'IMAGE'), modality(p, 'DOCUMENT')),
      satAdd(modality(tu, 'IMAGE'), modality(tu, 'DOCUMENT')),
    ),
    t.prompt_tokens,
  );
  t.completion_audio_tokens = Math.min(modality(c, 'AUDIO'), t.completion_tokens);
  t.completion_image_tokens = Math.min(
    satAdd(modality(c, 'IMAGE'), modality(c, 'DOCUMENT')),
    t.completion_tokens,
  );
  return { tokens: t, tier: asString(u.serviceTier) };
}
