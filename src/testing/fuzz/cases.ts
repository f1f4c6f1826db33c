/**
 * The fuzz corpus's case type: what to run (a library entry point the CLI uses, or the CLI itself)
 * on files written under the case's own folder, so a case's leftovers can be told from its inputs.
 */
import type { DatasetSpec } from '../../datasets/load.js';

export type Entry =
  | { kind: 'decodeImage'; path: string }
  | { kind: 'loadMask'; path: string }
  | { kind: 'loadDataset'; spec: DatasetSpec }
  | { kind: 'scoreWithModel'; model: string; image: string }
  | { kind: 'loadWeights'; path: string; arch?: 'resnet18' }
  | { kind: 'loadCheckpoint'; path: string }
  | { kind: 'backboneManifest'; path: string }
  | { kind: 'config'; path: string }
  | { kind: 'cli'; args: string[]; env?: Record<string, string> };

export interface FuzzCase {
  id: string;
  family: string;
  /** How the input was damaged (for a failure message a person can reproduce from). */
  how: string;
  /** The case's own folder: its inputs live here, and an error must name a path in it. */
  dir: string;
  entry: Entry;
}

/** What the worker reports per case. */
export interface CaseResult {
  id: string;
  ok: boolean;
  error?: { name: string; message: string; stack?: string };
  ms: number;
  /** The process's peak resident memory after the case, bytes. */
  maxRss: number;
}
