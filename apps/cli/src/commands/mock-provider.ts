// `spendops mock-provider`: a local scripted provider that answers like OpenAI, Anthropic and Gemini (real
// bodies, headers, SSE framing and pacing, usage, tool calls, embeddings, 429s), so the quick start can be
// followed end to end without a provider key. Also the upstream of the SDK compatibility suite (compat/).
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { startScriptedUpstream } from '@spendops/testing';

interface MockProviderFlags {
  addr: string;
  gapMs: string;
  addrFile?: string;
}

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`--addr: want HOST:PORT, got ${JSON.stringify(addr)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

export function registerMockProviderCommand(program: Command): void {
  program
    .command('mock-provider')
    .description(
      'Run a local scripted provider (OpenAI, Anthropic, Gemini) for trying SpendOps without a key',
    )
    .addOption(new Option('--addr <host:port>', 'listen address').default('127.0.0.1:9090'))
    .addOption(new Option('--gap-ms <ms>', 'pause between streamed events').default('50'))
    .addOption(new Option('--addr-file <file>', 'write the bound host:port to this file once listening'))
    .action(async (flags: MockProviderFlags) => {
      const { host, port } = parseAddr(flags.addr);
      const gapMs = Number(flags.gapMs);
      if (!Number.isFinite(gapMs) || gapMs < 0)
        throw new Error('--gap-ms: want a number of milliseconds >= 0');
      const upstream = await startScriptedUpstream({ host, port, gapMs });
      const bound = upstream.url.replace(/^http:\/\//, '');
      if (flags.addrFile) writeFileSync(flags.addrFile, bound);
      const u = upstream.url;
      process.stdout.write(
        `Mock provider listening on ${u} (OpenAI, Anthropic and Gemini; no key needed)\n` +
          `Point SpendOps at it:\n` +
          `  SPENDOPS_UPSTREAM_OPENAI=${u} SPENDOPS_UPSTREAM_ANTHROPIC=${u} SPENDOPS_UPSTREAM_GOOGLE=${u} npm start\n` +
          `Served requests and the usage each reported: GET ${u}/_compat/log\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await upstream.close();
    });
}
