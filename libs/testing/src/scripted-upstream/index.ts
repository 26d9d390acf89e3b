export { startScriptedUpstream } from './server';
export type { ScriptedUpstream, ScriptedUpstreamOptions } from './server';
export type { ExpectedUsage, UpstreamLogEntry } from './log';
export { REPLY_TEXT, REPLY_WORDS } from './ids';
export { BROKEN_PROXY_MODES, isBrokenProxyMode, startBrokenProxy } from './broken-proxy';
export type { BrokenProxy, BrokenProxyMode, BrokenProxyOptions } from './broken-proxy';
