// Watches a streamed response for its end marker, decoding a compressed copy when needed (the client's bytes are
// never touched). Used only for the outcome rule: a client that leaves after the end marker completed.
import {
  BrotliDecompress,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  Gunzip,
  Inflate,
} from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { StreamEndDetector } from '@spendops/providers';

/** A decompression bomb stops the watch, never the relay. */
const MAX_DECODED_BYTES = 64 << 20;

export interface EndWatcher {
  readonly complete: boolean;
  /** Feed the response bytes as received; resolves once they were looked at. */
  push(chunk: Buffer): void | Promise<void>;
  close(): void;
}

/** A watcher for the response's Content-Encoding, or null when it cannot be decoded. */
export function createEndWatcher(contentEncoding: string): EndWatcher | null {
  switch (contentEncoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return new PlainWatcher();
    case 'gzip':
    case 'x-gzip':
      return new ZlibWatcher(createGunzip());
    case 'deflate':
      return new ZlibWatcher(createInflate());
    case 'br':
      return new ZlibWatcher(createBrotliDecompress());
    case 'zstd':
      return new ZstdWatcher();
    default:
      return null; // several encodings, or one we do not know
  }
}

class PlainWatcher implements EndWatcher {
  private readonly detector = new StreamEndDetector();
  get complete(): boolean {
    return this.detector.complete;
  }
  push(chunk: Buffer): void {
    this.detector.push(chunk);
  }
  close(): void {}
}

class ZlibWatcher implements EndWatcher {
  private readonly detector = new StreamEndDetector();
  private decoded = 0;
  private failed = false;

  constructor(private readonly z: Gunzip | Inflate | BrotliDecompress) {
    z.on('data', (d: Buffer) => {
      this.decoded += d.length;
      if (this.decoded > MAX_DECODED_BYTES) this.failed = true;
      else this.detector.push(d);
    });
    z.on('error', () => {
      this.failed = true;
    });
  }

  get complete(): boolean {
    return this.detector.complete;
  }

  push(chunk: Buffer): Promise<void> | void {
    if (this.failed || this.detector.complete || this.z.destroyed) return;
    return new Promise((resolve) => {
      const done = (): void => {
        this.z.off('error', done);
        resolve();
      };
      this.z.once('error', done); // corrupt input: a destroyed stream never calls back
      this.z.write(chunk);
      this.z.flush(done); // output of this chunk is emitted before the flush completes
    });
  }

  close(): void {
    this.z.destroy();
  }
}

class ZstdWatcher implements EndWatcher {
  private readonly detector = new StreamEndDetector();
  private decoded = 0;
  private failed = false;
  private readonly z = new ZstdDecompress((data: Uint8Array) => {
    this.decoded += data.length;
    if (this.decoded > MAX_DECODED_BYTES) this.failed = true;
    else this.detector.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });

  get complete(): boolean {
    return this.detector.complete;
  }

  push(chunk: Buffer): void {
    if (this.failed || this.detector.complete) return;
    try {
      this.z.push(chunk);
    } catch {
      this.failed = true;
    }
  }

  close(): void {}
}
