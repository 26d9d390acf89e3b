// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, the top entries first.
import type { ProfileEntry } from './model';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  /** µs on the machine's monotonic clock (the one process.hrtime reads). */
  startTime?: number;
  timeDeltas?: number[];
}

/** Samples V8 takes while the thread waits: left out, so the percentages are of busy time. */
const NOT_BUSY = new Set(['(idle)', '(program)']);

/**
 * Self time per function as a share of the busy samples, top first; with a window (µs, monotonic clock), only
 * the samples taken inside it (e.g. the load, not the start-up).
 */
export function topSelfTime(
  profile: CpuProfile,
  n = 15,
  window?: { fromUs: number; toUs: number },
): ProfileEntry[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  if (profile.samples?.length) {
    let t = profile.startTime ?? 0;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas?.[i] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) return;
      hits.set(id, (hits.get(id) ?? 0) + 1);
    });
  } else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  const byFn = new Map<string, ProfileEntry & { hits: number }>();
  let total = 0;
  for (const [id, count] of hits) {
    const f = byNode.get(id)?.callFrame;
    if (!f || NOT_BUSY.has(f.functionName)) continue;
    total += count;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const fn = f.functionName || '(anonymous)';
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, selfPct: 0, hits: 0 };
    e.hits += count;
    byFn.set(key, e);
  }
  return [...byFn.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, n)
    .map(({ fn, where, hits: h }) => ({ fn, where, selfPct: total > 0 ? (h / total) * 100 : 0 }));
}

/** The repository-relative part of a file URL (dist/apps/proxy/... or node_modules/undici/...). */
export function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm);
  const dist = path.indexOf('/dist/');
  return dist >= 0 ? path.slice(dist + 1) : path;
}
