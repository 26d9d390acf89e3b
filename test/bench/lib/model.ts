// What one bench run produced: the JSON written to bench/results, and the input of the markdown and the chart.
import type { FixedRateRun, MemoryRun, PipelineRun, SaturationStep, StreamRun } from './scenarios';

export interface TargetInfo {
  name: string;
  status: 'ok' | 'skipped';
  detail: string;
  reason: string;
}

export interface ProfileEntry {
  fn: string;
  where: string;
  selfPct: number;
}

export interface BenchReport {
  meta: {
    started: string;
    mode: 'quick' | 'full';
    tookS: number;
    machine: { cpu: string; cores: number; kernel: string; memKiB: number; node: string; go: string };
    loadStart: string;
    loadEnd: string;
    cores: string;
    keyRate: number;
    repeats: number;
    /** Each step of the run in order, in seconds (where the time goes). */
    phases?: Array<{ phase: string; s: number }>;
    /** Per target, seconds from the start of the run until it was up (all start at once; distributed in the background). */
    readyS?: Record<string, number>;
    /** The waits for the targets to go idle before each measurement: count, total, how many hit the cap. */
    settle?: { waits: number; totalMs: number; capped: number; capMs: number };
    /** One-time work of this run (installs, builds), cached for the next runs, with its duration. */
    setup?: string[];
  };
  targets: TargetInfo[];
  /** Per rate, per target, the runs (several at the key rate). */
  fixed: Array<{ rate: number; rows: Array<{ target: string; runs: FixedRateRun[] }> }>;
  saturation: Array<{ target: string; best: number; steps: SaturationStep[] }>;
  streams: Array<{ target: string; run: StreamRun }>;
  memory: Array<{ target: string; run: MemoryRun }>;
  pipeline: Array<{ target: string; run: PipelineRun }>;
  extraction: Array<{ name: string; perSecond: number }>;
  goals: Goal[];
  profile: { target: string; note: string; top: ProfileEntry[] } | null;
  notes: string[];
}

export interface Goal {
  goal: string;
  want: string;
  measured: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
}
