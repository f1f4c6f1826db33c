/**
 * Integrity checks for downloaded and cached files: a full sha256 or a prefix of one (torchvision
 * publishes only the first 8 hex digits, in its file names).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

export interface Checksum {
  /** Lower-case hex; 64 digits for a full sha256, fewer for a prefix. */
  hex: string;
}

/** A checksum from user input (`--sha256`): 8 to 64 hex digits. */
export function parseChecksum(hex: string, what: string): Checksum {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(h)) throw new Error(`${what} must be a sha256 in hex (64 digits, or at least its first 8), got '${hex}'`);
  return { hex: h };
}

export function matches(c: Checksum, sha256: string): boolean {
  return sha256.startsWith(c.hex);
}

export function describeChecksum(c: Checksum): string {
  return c.hex.length === 64 ? `sha256 ${c.hex}` : `sha256 starting with ${c.hex}`;
}

/** The sha256 of a file, streamed (datasets are gigabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
