import type { CapturedBody } from '@spendops/contracts';

/**
 * A bounded copy of a body as it passes: all of it up to `cap` bytes; past the cap, the first and the last
 * cap/2 bytes (usage sits at the end of streams and of most JSON bodies, the model at the start of requests).
 */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private head: Buffer | null = null;
  private readonly half: number;

  constructor(private readonly cap: number) {
    this.half = Math.max(1, Math.floor(cap / 2));
  }

  get totalBytes(): number {
    return this.total;
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    if (this.head === null && this.kept > this.cap) {
      const all = Buffer.concat(this.chunks, this.kept);
      this.head = Buffer.from(all.subarray(0, this.half));
      this.chunks = [all.subarray(all.length - this.half)];
      this.kept = this.half;
      return;
    }
    if (this.head !== null) this.trimTail();
  }

  private trimTail(): void {
    while (this.kept - this.chunks[0].length >= this.half) {
      this.kept -= this.chunks[0].length;
      this.chunks.shift();
    }
    if (this.kept > this.half) {
      const drop = this.kept - this.half;
      this.chunks[0] = this.chunks[0].subarray(drop);
      this.kept -= drop;
    }
  }

  result(): CapturedBody {
    // One chunk (most bodies): encoded where it lies, not copied first.
    const kept = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.kept);
    if (this.head === null) {
      return { head: kept.toString('base64'), total_bytes: this.total, truncated: false };
    }
    return {
      head: this.head.toString('base64'),
      tail: kept.toString('base64'),
      total_bytes: this.total,
      truncated: true,
    };
  }
}
