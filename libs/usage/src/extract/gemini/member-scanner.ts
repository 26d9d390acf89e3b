// Splits a JSON byte stream, as it arrives, into the members of its records with bounded memory. A record is
// the top-level object of a body, or each object element of a top-level array (streamGenerateContent without
// alt=sse). Only members whose key `want` accepts are buffered, each up to maxMember bytes; a longer value is
// skipped but scanning goes on, so a large inline image costs no memory and does not hide the usageMetadata
// after it. A record cut short still yields the members that did complete. It tracks strings, escapes and
// nesting only: malformed input never throws, values are checked by whoever decodes them.

const MAX_KEY = 64;
type State = 'expectKey' | 'key' | 'colon' | 'valStart' | 'val';

export class MemberScanner {
  private depth = 0;
  private inStr = false;
  private esc = false;
  private recDepth = -1;
  private inRec = false;
  private st: State = 'expectKey';
  private key: number[] = [];
  private keyOver = false;
  private val: Buffer = Buffer.allocUnsafe(256);
  private valLen = 0;
  private valOver = false;
  private keep = false;

  constructor(
    private readonly maxMember: number,
    private readonly want: (key: string) => boolean,
    private readonly onMember: (key: string, value: Buffer) => void,
  ) {}

  reset(): void {
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    this.recDepth = -1;
    this.inRec = false;
    this.st = 'expectKey';
    this.key = [];
    this.keyOver = false;
    this.dropVal();
  }

  write(p: Buffer): void {
    for (let i = 0; i < p.length; i++) this.step(p[i]);
  }

  private keyText(): string {
    return Buffer.from(this.key).toString('utf8');
  }

  private step(c: number): void {
    const memberLevel = this.inRec && this.depth === this.recDepth + 1;
    if (this.inStr) {
      if (this.esc) this.esc = false;
      else if (c === 0x5c) this.esc = true;
      else if (c === 0x22) {
        this.inStr = false;
        if (memberLevel && this.st === 'key') {
          this.st = 'colon';
          return;
        }
      }
      if (memberLevel && this.st === 'key') {
        if (this.key.length < MAX_KEY) this.key.push(c);
        else this.keyOver = true;
        return;
      }
      this.appendVal(c);
      return;
    }
    if (memberLevel) {
      switch (this.st) {
        case 'expectKey':
          if (c === 0x22) {
            this.inStr = true;
            this.st = 'key';
            this.key = [];
            this.keyOver = false;
          } else if (c === 0x7d || c === 0x5d) this.endRecord();
          return;
        case 'key': // unreachable outside a string; recover
          this.st = 'expectKey';
          return;
        case 'colon':
          if (c === 0x3a) this.st = 'valStart';
          else if (c === 0x7d || c === 0x5d) this.endRecord();
          else if (c === 0x2c) this.st = 'expectKey';
          return;
        case 'valStart':
          if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return;
          if (c === 0x7d || c === 0x5d) {
            this.endRecord();
            return;
          }
          if (c === 0x2c) {
            this.st = 'expectKey';
            return;
          }
          this.st = 'val';
          this.keep = !this.keyOver && this.want(this.keyText());
          this.valLen = 0;
          this.valOver = false;
          break;
        case 'val':
          if (c === 0x2c) {
            this.endMember();
            this.st = 'expectKey';
            return;
          }
          if (c === 0x7d || c === 0x5d) {
            this.endMember();
            this.endRecord();
            return;
          }
      }
    }
    this.appendVal(c);
    if (c === 0x22) this.inStr = true;
    else if (c === 0x7b || c === 0x5b) {
      if (this.depth === 0) this.recDepth = c === 0x7b ? 0 : 1;
      if (c === 0x7b && !this.inRec && this.depth === this.recDepth) {
        this.inRec = true;
        this.st = 'expectKey';
      }
      this.depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (this.depth > 0) this.depth--;
      if (this.depth === 0) this.recDepth = -1;
    }
  }

  private appendVal(c: number): void {
    if (!this.inRec || this.st !== 'val' || !this.keep || this.valOver) return;
    if (this.valLen >= this.maxMember) {
      this.valOver = true;
      return;
    }
    if (this.valLen === this.val.length) {
      const grown = Buffer.allocUnsafe(this.val.length * 2);
      this.val.copy(grown, 0, 0, this.valLen);
      this.val = grown;
    }
    this.val[this.valLen++] = c;
  }

  private endMember(): void {
    if (this.keep && !this.valOver) {
      let n = this.valLen;
      while (
        n > 0 &&
        (this.val[n - 1] === 0x20 ||
          this.val[n - 1] === 0x09 ||
          this.val[n - 1] === 0x0d ||
          this.val[n - 1] === 0x0a)
      )
        n--;
      this.onMember(this.keyText(), Buffer.from(this.val.subarray(0, n)));
    }
    this.dropVal();
  }

  private dropVal(): void {
    this.keep = false;
    this.valOver = false;
    this.valLen = 0;
    // Do not pin a large buffer for the rest of the stream.
    if (this.val.length > 64 << 10) this.val = Buffer.allocUnsafe(256);
  }

  private endRecord(): void {
    this.inRec = false;
    this.st = 'expectKey';
    this.depth--;
    if (this.depth === 0) this.recDepth = -1;
  }
}
