/**
 * Runs the fuzz corpus's library cases in a process of its own (so a native crash or an exhausted
 * heap is a failed run, not a dead test runner): `node worker.js <cases.json>` prints one JSON line
 * per case, `{"start": id}` before it and a CaseResult after it.
 */
import { readFileSync } from 'node:fs';
import { architectureShapes } from '../../backbones/state-dict.js';
import { RESNET_ARCHS } from '../../backbones/resnet-arch.js';
import { loadManifestBackbone } from '../../backbones/manifest.js';
import { resolveConfig } from '../../model/config.js';
import { loadDataset } from '../../datasets/load.js';
import { decodeImage } from '../../images/decode.js';
import { MaskLoader } from '../../images/maskLoader.js';
import { loadModel } from '../../model/modelDir.js';
import { Scorer } from '../../scoring/scorer.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { loadStateDict } from '../../weights/load.js';
import type { CaseResult, Entry, FuzzCase } from './cases.js';

let masks: MaskLoader | undefined;

async function run(e: Entry): Promise<void> {
  switch (e.kind) {
    case 'decodeImage':
      await decodeImage(e.path);
      return;
    case 'loadMask':
      masks ??= await MaskLoader.create({ resize: 36, crop: 32 });
      await masks.load(e.path);
      return;
    case 'loadDataset':
      await loadDataset(e.spec);
      return;
    case 'scoreWithModel': {
      const model = await loadModel(e.model);
      const scorer = await Scorer.fromModel(model);
      try {
        await scorer.score([await decodeImage(e.image)]);
      } finally {
        await scorer.release();
      }
      return;
    }
    case 'loadWeights':
      await loadStateDict(e.path, e.arch ? { expected: architectureShapes(RESNET_ARCHS[e.arch]) } : {});
      return;
    case 'loadCheckpoint':
      await loadCheckpoint(e.path);
      return;
    case 'backboneManifest':
      await loadManifestBackbone(e.path);
      return;
    case 'config':
      await resolveConfig(e.path, {});
      return;
    case 'cli':
      throw new Error('cli cases run as processes');
  }
}

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e: unknown) => {
    say({ fatal: event, message: String((e as Error)?.stack ?? e) });
    process.exit(70);
  });
}

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8')) as FuzzCase[];
for (const c of cases) {
  say({ start: c.id });
  const t0 = performance.now();
  const result: CaseResult = { id: c.id, ok: true, ms: 0, maxRss: 0 };
  try {
    await run(c.entry);
  } catch (e) {
    const err = e as Error;
    result.ok = false;
    result.error = { name: err?.constructor?.name ?? typeof e, message: String(err?.message ?? e), stack: err?.stack };
  }
  result.ms = performance.now() - t0;
  result.maxRss = process.resourceUsage().maxRSS * 1024;
  say(result);
}
