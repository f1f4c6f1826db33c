/**
 * Issue 16: scoreImages scores consecutive same-size images `batch` at a time in one run of the
 * graph and gives what batch 1 gives, image by image and in input order; a new size or a failed
 * decode ends a group, a failed run is rescored image by image, and `predict`/`test --batch` reach it.
 * With a session of worker threads, `runs` groups are scored side by side, still handed out in order.
 * A tiny model trained in seconds scores real bottle images (900×900, plus a downscaled copy).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import sharp from 'sharp';
import { Detector } from '../../api/detector.js';
import { predictCommand } from '../../cli/predictCommand.js';
import { testCommand } from '../../cli/testCommand.js';
import { type DecodedImage, decodeImage } from '../../images/decode.js';
import { fitDownscale, tileGrid } from '../../images/fit.js';
import { MAX_EXACT_DOWNSCALE } from '../../images/fit.js';
import { loadModel } from '../../model/modelDir.js';
import { sideBySideSession } from '../../onnx/session.js';
import { NonFiniteScoreError, Scorer } from '../../scoring/scorer.js';
import { type Scored, scoreImages } from '../../scoring/scoreImages.js';
import { BOTTLE_MISSING, MVTEC_ROOT } from '../../testing/bottleSubset.js';
import { runCli, tinyWorkspace, trainTiny, type TinyWorkspace } from '../../testing/cli.js';
import { predictImages } from '../predictImages.js';
import { testTempDir } from '../../testing/tempDir.js';

const BOTTLE_TEST = join(MVTEC_ROOT, 'bottle', 'test');
const bottle = (defect: string, i: number) => join(BOTTLE_TEST, defect, `${String(i).padStart(3, '0')}.png`);
const BOTTLES = [
  bottle('good', 0),
  bottle('broken_large', 0),
  bottle('good', 1),
  bottle('contamination', 0),
  bottle('broken_small', 0),
  bottle('good', 2),
  bottle('broken_large', 1),
];

/** Largest difference relative to the larger magnitude of the two arrays (the map's scale). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]));
  }
  return diff / scale;
}

/** The sizes of the batches the scorer was asked to run, recorded while the original still runs them. */
function recordBatches(scorer: Scorer): number[] {
  const sizes: number[] = [];
  const score = scorer.score.bind(scorer);
  scorer.score = (images) => {
    sizes.push(images.length);
    return score(images);
  };
  return sizes;
}

async function collect<T>(gen: AsyncGenerator<Scored<T>>): Promise<Scored<T>[]> {
  const out: Scored<T>[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

function assertSameResults<T>(batched: Scored<T>[], single: Scored<T>[]): void {
  assert.deepEqual(
    batched.map((r) => r.item),
    single.map((r) => r.item),
  );
  for (let i = 0; i < single.length; i++) {
    const a = batched[i];
    const b = single[i];
    assert.equal(a.ok, b.ok, `item ${i}`);
    if (!a.ok || !b.ok) continue;
    assert.ok(relDiff([a.result.score], [b.result.score]) <= 1e-5, `item ${i}: score ${a.result.score} vs ${b.result.score}`);
    assert.ok(relDiff(a.result.map, b.result.map) <= 1e-5, `item ${i}: map differs by ${relDiff(a.result.map, b.result.map)}`);
    assert.ok(relDiff(a.result.mapNormalized, b.result.mapNormalized) <= 1e-5, `item ${i}: normalised map`);
    assert.equal(a.result.label, b.result.label);
  }
}

describe('batched scoring (scoreImages batch)', { skip: BOTTLE_MISSING }, () => {
  const dir = testTempDir('simplenet-batch-');
  const modelDir = join(dir, 'model');
  const small = join(dir, 'images', 'small.png');
  const bad = join(dir, 'images', 'bad.png');
  let ws: TinyWorkspace;
  let scorer: Scorer;
  before(async () => {
    ws = await tinyWorkspace(dir);
    trainTiny(ws, modelDir);
    mkdirSync(join(dir, 'images'));
    await sharp(BOTTLES[0]).resize(300, 240).png().toFile(small);
    writeFileSync(bad, 'not a png at all');
    scorer = await Scorer.fromModel(await loadModel(modelDir));
  });
  after(async () => {
    await scorer?.release();
    rmSync(dir, { recursive: true, force: true });
  });
  const source = (p: string) => p;

  test('batch 3 and 8 give batch 1 scores and maps (≤ 1e-5 relative), in input order, in runs of 3,3,1 and 7', async () => {
    const single = await collect(scoreImages(scorer, BOTTLES, { source }));
    const scores = single.map((r) => (r.ok ? r.result.score : Number.NaN));
    // Distinct images score apart, so results handed to the wrong image would show.
    assert.equal(new Set(scores).size, BOTTLES.length, String(scores));
    const sizes = recordBatches(scorer);
    try {
      assertSameResults(await collect(scoreImages(scorer, BOTTLES, { source, batch: 3 })), single);
      assert.deepEqual(sizes, [3, 3, 1]);
      sizes.length = 0;
      assertSameResults(await collect(scoreImages(scorer, BOTTLES, { source, batch: 8 })), single);
      assert.deepEqual(sizes, [7]);
    } finally {
      delete (scorer as { score?: unknown }).score;
    }
  });

  test('a new image size ends a group; every image still gets its batch-1 result', async () => {
    const items = [BOTTLES[0], BOTTLES[1], small, BOTTLES[2], BOTTLES[3], small, small];
    const single = await collect(scoreImages(scorer, items, { source }));
    const sizes = recordBatches(scorer);
    try {
      assertSameResults(await collect(scoreImages(scorer, items, { source, batch: 4 })), single);
      assert.deepEqual(sizes, [2, 1, 2, 2]);
    } finally {
      delete (scorer as { score?: unknown }).score;
    }
  });

  test('an undecodable file in the middle of a batch is its own error entry, in order; the others score as batch 1', async () => {
    const items = [BOTTLES[0], BOTTLES[1], bad, BOTTLES[2], BOTTLES[3]];
    const single = await collect(scoreImages(scorer, items, { source }));
    const batched = await collect(scoreImages(scorer, items, { source, batch: 4 }));
    assertSameResults(batched, single);
    const failed = batched[2];
    assert.ok(!failed.ok && failed.item === bad && failed.error.message.includes(bad), String(!failed.ok && failed.error.message));
    assert.deepEqual(
      batched.map((r) => r.ok),
      [true, true, false, true, true],
    );
  });

  test('a batch whose run fails is rescored image by image: the error names the one image, the others score', async () => {
    const poisoned = BOTTLES[1];
    const decoded = new Map<DecodedImage, string>();
    const score = scorer.score.bind(scorer);
    scorer.score = async (images) => {
      const i = images.findIndex((im) => decoded.get(im) === poisoned);
      if (i >= 0) throw new NonFiniteScoreError(`${poisoned}: the model gives a non-finite score for this image`);
      return score(images);
    };
    try {
      // Decoded pixels as the source, so the stand-in above can tell which image a run holds.
      const images = await Promise.all(
        BOTTLES.slice(0, 4).map(async (p) => {
          const im = await decodeImage(p);
          decoded.set(im, p);
          return im;
        }),
      );
      const out = await collect(scoreImages(scorer, images, { source: (im) => im, batch: 4 }));
      assert.deepEqual(
        out.map((r) => r.ok),
        [true, false, true, true],
      );
      const failed = out[1];
      assert.ok(!failed.ok && failed.error instanceof NonFiniteScoreError && failed.error.message.startsWith(poisoned));
    } finally {
      delete (scorer as { score?: unknown }).score;
    }
  });

  test('memory stays bounded: the first result comes before more than batch + prefetch items are read', async () => {
    let pulled = 0;
    let pulledAtFirst = -1;
    function* many() {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield BOTTLES[i % BOTTLES.length];
      }
    }
    for await (const r of scoreImages(scorer, many(), { source, batch: 3, prefetch: 2 })) {
      assert.ok(r.ok);
      if (pulledAtFirst < 0) pulledAtFirst = pulled;
    }
    // The group of 3 plus up to 3 decoding ahead (prefetch is raised to the batch).
    assert.ok(pulledAtFirst <= 6, `pulled ${pulledAtFirst} before the first result`);
    assert.equal(pulled, 10);
  });

  test('batch must be a positive integer', async () => {
    for (const batch of [0, -1, 1.5]) {
      await assert.rejects(collect(scoreImages(scorer, BOTTLES, { source, batch })), /batch must be a positive integer/);
    }
  });

  test('predictImages, Detector.scoreMany and Detector.evaluate take batch and agree with batch 1', async () => {
    const inputs = BOTTLES.slice(0, 4).map((path) => ({ path, relative: path }));
    const scores = async (batch: number) => {
      const out: number[] = [];
      for await (const r of predictImages(scorer, inputs, { batch })) out.push(r.ok ? r.prediction.score : Number.NaN);
      return out;
    };
    const [one, four] = [await scores(1), await scores(4)];
    assert.ok(relDiff(four, one) <= 1e-5, `${four} vs ${one}`);
    await using detector = await Detector.load(modelDir);
    const many: number[] = [];
    for await (const r of detector.scoreMany(BOTTLES.slice(0, 4), { batch: 3 })) many.push(r.ok ? r.result.score : Number.NaN);
    assert.ok(relDiff(many, one) <= 1e-5, `${many} vs ${one}`);
    const spec = { format: 'mvtec' as const, root: ws.data, category: 'widget' };
    const [e1, e4] = [await detector.evaluate(spec), await detector.evaluate(spec, { batch: 4 })];
    assert.ok(
      relDiff(
        e4.predictions.map((p) => p.score),
        e1.predictions.map((p) => p.score),
      ) <= 1e-5,
    );
    assert.equal(e4.metrics.image_auroc, e1.metrics.image_auroc);
  });

  test('an image the fit would shrink beyond exact resampling is refused naming it; the others score', async () => {
    const model = await loadModel(modelDir);
    const width = Math.ceil((MAX_EXACT_DOWNSCALE + 8) * model.config.image.crop * tileGrid(model.config.image)[1]);
    const long = join(dir, 'images', 'long.png');
    await sharp({ create: { width, height: 8, channels: 3, background: { r: 90, g: 120, b: 30 } } })
      .png()
      .toFile(long);
    assert.ok(fitDownscale(width, 8, model.config.image) > MAX_EXACT_DOWNSCALE);
    const out = await collect(scoreImages(scorer, [BOTTLES[0], long, BOTTLES[1]], { source }));
    assert.deepEqual(
      out.map((r) => r.ok),
      [true, false, true],
    );
    const failed = out[1];
    assert.ok(!failed.ok && failed.error instanceof RangeError, String(!failed.ok && failed.error));
    assert.ok(failed.error.message.startsWith(`${long}: ${width}×8 would shrink`), failed.error.message);
    assert.match(failed.error.message, /image\.fit 'tile'/);
  });

  test('runs side by side (workers 2): batch-1 results in input order, failures in place, two runs in flight at once', async () => {
    const items = [BOTTLES[0], BOTTLES[1], bad, BOTTLES[2], small, BOTTLES[3], BOTTLES[4]];
    const single = await collect(scoreImages(scorer, items, { source }));
    const parallel = await Scorer.fromModel(await loadModel(modelDir), { session: sideBySideSession(2) });
    try {
      assert.equal(parallel.runs, 2);
      let active = 0;
      let most = 0;
      const score = parallel.score.bind(parallel);
      parallel.score = async (images) => {
        most = Math.max(most, ++active);
        try {
          return await score(images);
        } finally {
          active--;
        }
      };
      const out = await collect(scoreImages(parallel, items, { source }));
      assertSameResults(out, single);
      assert.deepEqual(
        out.map((r) => r.ok),
        [true, true, false, true, true, true, true],
      );
      assert.equal(most, 2);
      most = 0;
      assertSameResults(await collect(scoreImages(parallel, items, { source, batch: 2 })), single);
      assert.equal(most, 2);
    } finally {
      await parallel.release();
    }
    for (const runs of [0, 1.5]) await assert.rejects(collect(scoreImages(scorer, BOTTLES, { source, runs })), /runs must be a positive integer/);
  });

  test('predict --batch 3 --json prints the scores of --batch 1; --batch 0 is refused naming --batch', () => {
    const items = [BOTTLES[0], BOTTLES[1], small, BOTTLES[2], BOTTLES[3]];
    const lines = (batch: string) => {
      const r = runCli(['predict', '--model', modelDir, '--json', '--quiet', '--batch', batch, ...items]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { path: string; score: number; label: number });
    };
    const [one, three] = [lines('1'), lines('3')];
    assert.deepEqual(
      three.map((l) => l.path),
      items,
    );
    assert.deepEqual(
      three.map((l) => l.label),
      one.map((l) => l.label),
    );
    assert.ok(
      relDiff(
        three.map((l) => l.score),
        one.map((l) => l.score),
      ) <= 1e-5,
    );
    const r = runCli(['predict', '--model', modelDir, '--batch', '0', BOTTLES[0]]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--batch must be an integer ≥ 1, got '0'/);
  });

  test('test --batch 1.5 is refused naming --batch; predict --redis refuses a --batch its workers would not honour', async () => {
    // The commands' own option parsing, in process: a child per refusal costs seconds on a busy machine.
    const program = () => {
      const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      testCommand(p);
      predictCommand(p);
      return p;
    };
    await assert.rejects(
      program().parseAsync(['test', '--model', modelDir, '--data', ws.data, '--category', 'widget', '--batch', '1.5'], { from: 'user' }),
      /--batch must be an integer ≥ 1, got '1.5'/,
    );
    await assert.rejects(
      program().parseAsync(['predict', '--model', modelDir, '--redis', 'redis://127.0.0.1:1', '--out', join(dir, 'q'), '--batch', '2', BOTTLES[0]], {
        from: 'user',
      }),
      /--batch applies to scoring here, not to --redis/,
    );
    await assert.rejects(
      program().parseAsync(['predict', '--model', modelDir, '--redis', 'redis://127.0.0.1:1', '--out', join(dir, 'q'), '--workers', '0', BOTTLES[0]], {
        from: 'user',
      }),
      /--workers applies to scoring here, not to --redis/,
    );
  });
});
