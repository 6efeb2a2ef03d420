import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { FormatError, LazyImageError } from '../errors.js';

/** A content digest, `algorithm:encoded`, validated by `parseDigest`. */
export type Digest = string;

const ENCODED_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** Validates a digest string; only the algorithms the OCI spec registers are accepted. */
export function parseDigest(value: string, where = 'digest'): ParsedDigest {
  const m = DIGEST_RE.exec(value);
  const algorithm = m?.[1];
  const hex = m?.[2];
  const length = algorithm === undefined ? undefined : ENCODED_LENGTH[algorithm];
  if (!algorithm || !hex || length === undefined) {
    throw new LazyImageError('INVALID_FORMAT', `Invalid ${where} "${truncate(value)}": expected sha256:<64 hex> or sha512:<128 hex>`);
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new LazyImageError('INVALID_FORMAT', `Invalid ${where} "${truncate(value)}": ${algorithm} needs ${length} lowercase hex characters`);
  }
  return { algorithm: algorithm as ParsedDigest['algorithm'], hex };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Incremental digest of a byte stream in one algorithm. */
export class Digester {
  private readonly hash: Hash;
  private count = 0;

  constructor(readonly algorithm: ParsedDigest['algorithm'] = 'sha256') {
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.count += chunk.length;
  }

  get size(): number {
    return this.count;
  }

  digest(): Digest {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

export interface ExpectedContent {
  digest: Digest;
  size?: number;
}

/**
 * A pass-through stream that fails, instead of ending, when the bytes that went through it do not
 * have the expected size and digest. It also fails early once more bytes than expected arrive,
 * so a lying server cannot make us buffer or write without bound.
 */
export class VerifyingStream extends Transform {
  private readonly digester: Digester;

  constructor(private readonly expected: ExpectedContent, private readonly where: string) {
    super();
    this.digester = new Digester(parseDigest(expected.digest).algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.digester.update(chunk);
    if (this.expected.size !== undefined && this.digester.size > this.expected.size) {
      done(this.mismatch(`more than the expected ${this.expected.size} bytes`));
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expected.size !== undefined && this.digester.size !== this.expected.size) {
      done(this.mismatch(`${this.digester.size} bytes instead of ${this.expected.size}`));
      return;
    }
    const actual = this.digester.digest();
    if (actual !== this.expected.digest) {
      done(this.mismatch(`content has digest ${actual}`));
      return;
    }
    done();
  }

  private mismatch(what: string): FormatError {
    return new FormatError('DIGEST_MISMATCH', `${this.where}: ${what}, expected ${this.expected.digest}`, {
      format: 'blob',
      digest: this.expected.digest,
    });
  }
}

/** Checks a whole buffer against a digest (and size when known). */
export function verifyBytes(data: Uint8Array, expected: ExpectedContent, where: string): void {
  if (expected.size !== undefined && data.length !== expected.size) {
    throw new FormatError('DIGEST_MISMATCH', `${where}: ${data.length} bytes instead of ${expected.size}, expected ${expected.digest}`, {
      format: 'blob',
      digest: expected.digest,
    });
  }
  const { algorithm } = parseDigest(expected.digest);
  const actual = `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
  if (actual !== expected.digest) {
    throw new FormatError('DIGEST_MISMATCH', `${where}: content has digest ${actual}, expected ${expected.digest}`, {
      format: 'blob',
      digest: expected.digest,
    });
  }
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
