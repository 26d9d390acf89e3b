// Readiness: each module registers what it needs to be usable (database ping, bus channel); `/readyz` is 200
// only when every check passes.
import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<string | null> | string | null;

@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** After SIGTERM: report not ready so load balancers stop sending traffic. */
  markDraining(): void {
    this.draining = true;
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    let ready = !this.draining;
    if (this.draining) results.process = 'draining';
    for (const [name, check] of this.checks) {
      try {
        const problem = await Promise.race([
          Promise.resolve(check()),
          new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), 2000).unref()),
        ]);
        results[name] = problem ?? 'ok';
        if (problem) ready = false;
      } catch (err) {
        results[name] = err instanceof Error ? err.message : String(err);
        ready = false;
      }
    }
    return { ready, checks: results };
  }
}
