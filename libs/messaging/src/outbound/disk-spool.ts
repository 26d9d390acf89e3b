// The outbound queue's disk spool: a directory of append-only segment files, seg-<20-digit sequence>.jsonl, one
// JSON record per line (the Go pipeline's format, internal/pipeline/spool.go). Records are appended to the
// active segment; replay reads sealed segments oldest first and deletes a segment once all its records are
// published. A crash during replay publishes the whole segment again, which consumers' idempotence on the
// message id makes harmless.
//
// Durability (the loss window): every append is one write(2) straight to the file, so a record survives the
// process being killed as soon as append() returns. fsync runs when a segment is sealed (rotation), on sync()
// (the outbound queue calls it every `syncIntervalMs`, and on drain/close), so on power loss or a kernel crash
// at most the records appended since the last fsync — one sync interval — can be lost.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface SpoolRecord {
  /** message id */
  i: string;
  /** topic */
  t: string;
  /** payload */
  p: unknown;
}

interface Segment {
  seq: number;
  records: number;
}

const PREFIX = 'seg-';
const SUFFIX = '.jsonl';
const segmentName = (seq: number): string => `${PREFIX}${String(seq).padStart(20, '0')}${SUFFIX}`;

export class DiskSpool {
  private readonly sealed: Segment[] = [];
  private active?: { seq: number; fd: number; bytes: number; records: number; dirty: boolean };
  private nextSeq = 1;
  private pendingRecords = 0;
  private dirDirty = false;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = 4 << 20,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Segments left by an earlier run are all sealed.
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
      const seq = Number(name.slice(PREFIX.length, -SUFFIX.length));
      if (!Number.isSafeInteger(seq)) continue;
      const records = countRecords(readFileSync(join(dir, name)));
      this.sealed.push({ seq, records });
      this.pendingRecords += records;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    this.sealed.sort((a, b) => a.seq - b.seq);
  }

  /** Records waiting for replay. */
  get pending(): number {
    return this.pendingRecords;
  }

  /** Appends records in one write; throws on a disk error (the caller counts and logs it). */
  append(records: SpoolRecord[]): void {
    if (records.length === 0) return;
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    const active = this.active ?? this.create();
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(active.fd, bytes, written);
    } catch (err) {
      // A torn line is skipped at replay; seal so later records do not follow it.
      active.records += records.length;
      this.pendingRecords += records.length;
      this.seal();
      throw err;
    }
    active.bytes += bytes.length;
    active.records += records.length;
    active.dirty = true;
    this.pendingRecords += records.length;
    if (active.bytes >= this.segmentBytes) this.seal();
  }

  /** fsyncs the active segment and the directory. */
  sync(): void {
    if (this.active?.dirty) {
      fsyncSync(this.active.fd);
      this.active.dirty = false;
    }
    this.syncDir();
  }

  /**
   * The oldest segment's records for replay (sealing the active segment first when it is the only one with
   * records), with the number of lines that did not decode; undefined when nothing is pending.
   */
  oldest(): { seq: number; records: SpoolRecord[]; bad: number } | undefined {
    if (this.sealed.length === 0 && this.active && this.active.records > 0) this.seal();
    const segment = this.sealed[0];
    if (!segment) return undefined;
    const records: SpoolRecord[] = [];
    let bad = 0;
    const text = readFileSync(join(this.dir, segmentName(segment.seq)), 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const rec = JSON.parse(line) as SpoolRecord;
        if (typeof rec.i !== 'string' || typeof rec.t !== 'string') throw new Error('not a spool record');
        records.push(rec);
      } catch {
        bad++;
      }
    }
    return { seq: segment.seq, records, bad };
  }

  /** Deletes a replayed segment. */
  remove(seq: number): void {
    const index = this.sealed.findIndex((s) => s.seq === seq);
    if (index < 0) return;
    const [segment] = this.sealed.splice(index, 1);
    this.pendingRecords -= segment.records;
    try {
      unlinkSync(join(this.dir, segmentName(seq)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.dirDirty = true;
  }

  /** Seals and fsyncs the active segment. */
  close(): void {
    this.seal();
    this.syncDir();
  }

  private create(): NonNullable<DiskSpool['active']> {
    for (;;) {
      const seq = this.nextSeq++;
      try {
        // 'wx': never write into another process's segment.
        const fd = openSync(join(this.dir, segmentName(seq)), 'wx', 0o600);
        this.active = { seq, fd, bytes: 0, records: 0, dirty: false };
        this.dirDirty = true;
        return this.active;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Rotation: fsync the segment, close it, queue it for replay. */
  private seal(): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    try {
      if (active.dirty) fsyncSync(active.fd);
    } finally {
      closeSync(active.fd);
    }
    if (active.records > 0) this.sealed.push({ seq: active.seq, records: active.records });
    else unlinkSync(join(this.dir, segmentName(active.seq)));
    this.syncDir();
  }

  private syncDir(): void {
    if (!this.dirDirty) return;
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.dirDirty = false;
  }
}

/** Records in a segment, a torn last line (no newline) included. */
function countRecords(content: Buffer): number {
  let n = 0;
  for (const byte of content) if (byte === 0x0a) n++;
  if (content.length > 0 && content[content.length - 1] !== 0x0a) n++;
  return n;
}

/** Bytes in the spool directory's segments (for tests and diagnostics). */
export function spoolBytes(dir: string): number {
  return readdirSync(dir)
    .filter((n) => n.startsWith(PREFIX) && n.endsWith(SUFFIX))
    .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
}
