/**
 * The Model card: what the model is (backbone, preset, epochs, seed), which epoch was kept and why,
 * its thresholds, the training curves from training_log.csv and the test report's metrics if any.
 */
import { getJson } from './api.js';
import { lineChart } from './chart.js';
import { fill, h, num } from './dom.js';
import { modelPicker } from './modelPicker.js';
import { state } from './state.js';
import type { EpochLog, ModelInfo } from './types.js';

const SELECTED_WHY: Record<string, string> = {
  final: 'being the last epoch (no validation ran)',
  validation: 'the best synthetic-defect validation image AUROC (no test images used)',
};

function backboneName(b: Record<string, unknown>): string {
  if (typeof b.name === 'string') return b.name;
  if (typeof b.manifest === 'string') return `ONNX backbone (${b.manifest})`;
  return JSON.stringify(b);
}

export function mountModelCard(root: HTMLElement): void {
  const body = h('div', { id: 'model-card' });
  fill(root, h('h2', { id: 'h-model' }, 'Model card'), h('div', { class: 'panel' }, h('div', { class: 'row' }, modelPicker())), body);
  let shown = '';
  const show = async () => {
    const m = state.model;
    if (!m || (shown === m.name && root.hidden === false && body.childElementCount)) return;
    shown = m.name;
    fill(body, h('p', { role: 'status' }, 'Loading…'));
    let log: EpochLog[] | undefined;
    let error = '';
    if (!state.isStatic) {
      log = await getJson<{ epochs: EpochLog[] }>(`v1/models/${encodeURIComponent(m.name)}/training-log`).then(
        (r) => r.epochs,
        (e: Error) => {
          error = e.message;
          return undefined;
        },
      );
    }
    if (shown === m.name) render(m, log, error);
  };
  state.onChange(() => void show());
  void show();

  function render(m: ModelInfo, log: EpochLog[] | undefined, error: string): void {
    const sel = m.selected;
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Backbone'),
      h('dd', {}, backboneName(m.backbone)),
      h('dt', {}, 'Preset'),
      h('dd', {}, m.preset),
      h('dt', {}, 'Epochs trained'),
      h('dd', {}, String(m.epochs)),
      h('dt', {}, 'Seed'),
      h('dd', {}, String(m.seed)),
      h('dt', {}, 'Kept epoch'),
      h(
        'dd',
        { id: 'selected-epoch' },
        sel ? `${sel.epoch}, chosen by ${SELECTED_WHY[sel.by] ?? sel.by}${sel.score !== undefined ? ` (score ${num(sel.score)})` : ''}` : 'the last epoch',
      ),
      h('dt', {}, 'Image threshold (raw)'),
      h('dd', {}, `${num(m.image_threshold, 6)} (${m.threshold_source})`),
      h('dt', {}, 'Pixel threshold (raw)'),
      h('dd', {}, num(m.pixel_threshold, 6)),
      h('dt', {}, 'Map size'),
      h('dd', {}, `${m.map_size}×${m.map_size}`),
      h('dt', {}, 'Image fit'),
      h('dd', { id: 'image-fit' }, m.fit === 'tile' ? `tile, ${m.tiles[0]}×${m.tiles[1]} tiles` : m.fit),
      h('dt', {}, 'Created'),
      h('dd', {}, m.created_at),
    );
    const charts = h('div', { class: 'charts' });
    if (log?.length) {
      const pts = (f: (e: EpochLog) => number | undefined) => log.filter((e) => f(e) !== undefined).map((e): [number, number] => [e.epoch, f(e)!]);
      charts.append(
        lineChart('Training loss', 'epoch', [{ name: 'loss', points: pts((e) => e.loss) }]),
        lineChart('Discriminator rates', 'epoch', [
          { name: 'p_true', points: pts((e) => e.pTrue) },
          { name: 'p_fake', points: pts((e) => e.pFake) },
        ]),
        lineChart('Validation on synthetic defects', 'epoch', [
          { name: 'image AUROC', points: pts((e) => e.valImageAuroc) },
          { name: 'patch AUROC', points: pts((e) => e.valPatchAuroc) },
          ...(log.some((e) => e.valPatchAupro !== undefined) ? [{ name: 'patch AUPRO', points: pts((e) => e.valPatchAupro) }] : []),
        ]),
      );
    }
    const curves = state.isStatic
      ? h('p', { class: 'muted' }, 'The static export holds the scoring graph only; the training log is in the model folder.')
      : error
        ? h('p', { class: 'error' }, `Training log: ${error}`)
        : log?.length
          ? charts
          : h('p', { class: 'muted' }, 'This model has no training log.');
    const metrics = m.test_metrics;
    const rows = metrics
      ? Object.entries(metrics)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, num(v as number))))
      : [];
    fill(
      body,
      h('div', { class: 'panel' }, h('h3', {}, m.name), facts),
      h('div', { class: 'panel' }, h('h3', {}, 'Training curves'), curves),
      h(
        'div',
        { class: 'panel' },
        h('h3', { id: 'h-test' }, 'Test report'),
        rows.length
          ? h(
              'table',
              { 'aria-labelledby': 'h-test' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), h('th', { scope: 'col' }, 'Value'))),
              h('tbody', {}, ...rows),
            )
          : h('p', { class: 'muted' }, 'No test report beside this model (run simplenet test --json or --report into the model folder).'),
      ),
    );
  }
}
