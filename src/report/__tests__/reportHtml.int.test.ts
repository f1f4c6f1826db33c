/**
 * report.html is checked where users read it: opened in headless Chromium (Debian's `chromium`,
 * driven by playwright-core), it must show the metrics table, the charts and gallery images that
 * actually decode. Skipped, saying so, where no Chromium is installed (CHROMIUM_PATH overrides).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { ImagePrediction, Metrics } from '../../evaluation/evaluate.js';
import { encodeGallery } from '../gallery.js';
import { reportHtml } from '../html.js';
import { wrongness } from '../testReport.js';
import { testTempDir } from '../../testing/tempDir.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p): p is string =>
  Boolean(p && existsSync(p)),
);

const metrics: Metrics = {
  image_auroc: 0.75,
  image_ap: 0.8,
  image_f1_max: 0.8,
  image_f1_threshold: 0.35,
  pixel_auroc: 0.9,
  pixel_aupro: 0.6,
  pixel_ap: 0.5,
  pixel_f1_max: 0.55,
  pixel_f1_threshold: 1.2,
  image_threshold: 0.5,
  pixel_threshold: 1,
  image_precision_at_threshold: 1,
  image_recall_at_threshold: 0.5,
  image_f1_at_threshold: 2 / 3,
  image_fpr_at_threshold: 0,
  pixel_f1_at_threshold: 0.4,
  good_scores: null,
  n_images: 4,
  n_defective: 2,
  n_good: 2,
  notes: [],
};

const predictions: ImagePrediction[] = [
  { path: 'good/a.png', label: 0, defectType: 'good', score: 0.1, scoreNormalized: 0.3, predLabel: 0 },
  { path: 'good/b.png', label: 0, defectType: 'good', score: 0.4, scoreNormalized: 0.45, predLabel: 0 },
  { path: 'crack/c.png', label: 1, defectType: 'crack', score: 0.35, scoreNormalized: 0.42, predLabel: 0 },
  { path: 'crack/<d>.png', label: 1, defectType: 'crack', score: 0.8, scoreNormalized: 0.7, predLabel: 1 },
];

test('worst first: misclassified defects and good images furthest on the wrong side lead', () => {
  const order = [...predictions].sort((a, b) => wrongness(b, 0.5) - wrongness(a, 0.5)).map((p) => p.path);
  assert.deepEqual(order, ['crack/c.png', 'good/b.png', 'crack/<d>.png', 'good/a.png']);
});

test('report.html opens in headless Chromium and shows the table, charts and images', {
  skip: CHROMIUM ? false : 'no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)',
}, async () => {
  const size = 8;
  const crop = new Uint8Array(size * size * 3).fill(90);
  const map = Float32Array.from({ length: size * size }, (_, i) => i / 16);
  const { thumbnail } = await encodeGallery({ crop, map, mapNormalized: map.map((v) => v / 4), pixelThreshold: 2, size });
  const html = reportHtml({
    title: 'SimpleNet test: widget',
    lines: ['model m'],
    metrics,
    curves: { imageRoc: { fpr: [0, 0, 0.5, 1], tpr: [0, 0.5, 1, 1] }, pro: { fpr: [0, 0.1, 0.3], pro: [0, 0.5, 0.7] } },
    predictions,
    gallery: predictions.map((prediction) => ({ prediction, image: 'images/x.png', thumbnail })),
    galleryTotal: 4,
    trainingLog: [
      { epoch: 1, loss: 1.2, pTrue: 0.2, pFake: 0.1, seconds: 1, valImageAuroc: 0.8, valPatchAuroc: 0.7 },
      { epoch: 2, loss: 1.0, pTrue: 0.01, pFake: 0.02, seconds: 1, valImageAuroc: 0.9, valPatchAuroc: 0.75 },
    ],
  });
  const dir = testTempDir('simplenet-html-');
  const file = join(dir, 'report.html');
  writeFileSync(file, html);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    const rows = await page.$$eval('#metrics tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.ok(
      rows.some((r) => /image AUROC\s*0\.7500/.test(r)),
      rows.join(' | '),
    );
    const images = await page.$$eval('#gallery img', (imgs) => imgs.map((i) => ({ w: (i as HTMLImageElement).naturalWidth, alt: i.getAttribute('alt') })));
    assert.equal(images.length, 4);
    assert.ok(
      images.every((i) => i.w === Math.round((3 * size + 8) / 2)),
      JSON.stringify(images),
    );
    assert.equal(images[3].alt, 'crack/<d>.png'); // escaped in the page, shown as written
    const charts = await page.$$eval('svg', (svgs) => svgs.map((s) => s.getAttribute('aria-label')));
    assert.deepEqual(charts, ['Image ROC', 'PRO (to FPR 0.3)', 'Image scores', 'Training loss', 'Training p_true / p_fake', 'Validation (synthetic defects)']);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
