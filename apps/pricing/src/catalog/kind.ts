/** The informational model kind guessed from its id. */
export function kindOf(id: string): string {
  const s = id.toLowerCase();
  if (s.includes('embed')) return 'embedding';
  if (s.includes('moderation')) return 'moderation';
  if (['dall-e', 'imagen', 'gpt-image', 'image-generation'].some((k) => s.includes(k))) return 'image';
  if (['whisper', 'tts', 'transcribe'].some((k) => s.includes(k))) return 'audio';
  return 'chat';
}
