// Endpoint class of an OpenAI-dialect path (relative to the provider) and whether requests to it are billed.
import type { EndpointClass } from '@spendops/contracts';

export function classifyOpenAI(
  method: string,
  path: string,
): { endpointClass: EndpointClass; notBilled: boolean } {
  const p = path.replace(/\/+$/, '');
  const read = method === 'GET' || method === 'DELETE' || method === 'HEAD';
  const ends = (s: string): boolean => p.endsWith(s);
  const contains = (seg: string): boolean => (p + '/').includes(seg);
  const r = (endpointClass: EndpointClass, notBilled = read) => ({ endpointClass, notBilled });
  if (ends('/responses/input_tokens')) return r('count_tokens', true);
  if (ends('/chat/completions')) return r('chat');
  if (contains('/chat/completions/')) return r('chat', true); // stored completions: reads and updates
  if (ends('/completions')) return r('completions');
  if (ends('/responses')) return r('responses');
  if (contains('/responses/')) return r('responses', true); // GET /responses/{id}, cancel, input_items
  if (ends('/embeddings')) return r('embeddings');
  if (ends('/images/generations') || ends('/images/edits') || ends('/images/variations')) return r('images');
  if (ends('/audio/transcriptions')) return r('audio_transcription');
  if (ends('/audio/translations')) return r('audio_translation');
  if (ends('/audio/speech')) return r('audio_speech');
  if (ends('/moderations')) return r('moderations');
  if (ends('/models') || contains('/models/')) return r('models', true);
  // Creating, polling and cancelling a batch cost nothing; its work is billed from its results.
  if (ends('/batches') || contains('/batches/')) return r('batch', true);
  return r('other');
}
