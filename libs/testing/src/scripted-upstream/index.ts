export { startScriptedUpstream } from './server';
export type { ScriptedUpstream, ScriptedUpstreamOptions } from './server';
export type { ExpectedUsage, UpstreamLogEntry } from './log';
export { REPLY_TEXT, REPLY_WORDS } from './ids';
