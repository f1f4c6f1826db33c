/**
 * The Inspect page: drop images or pick a folder, score them (on the server or in this browser),
 * then review: the overlay with an opacity slider, raw and normalised scores, a view threshold
 * that relabels live, a table sortable by score, a worst-first gallery, CSV / JSON downloads.
 */
import { download, fill, h, num } from './dom.js';
import { drawOverlay } from './layers.js';
import { modelPicker } from './modelPicker.js';
import { runPool } from './pool.js';
import { flagged, type Result, resultsCsv, resultsJson } from './results.js';
import { type Mode, type Scored, scoreOnServer } from './scoring.js';
import { state } from './state.js';

/** More images than this in one drop or folder are not scored (the rest are named in a notice). */
export const MAX_FILES = 1000;
const GALLERY_STEP = 48;
const IMAGE_NAME = /\.(png|jpe?g|webp|bmp|tiff?|gif)$/i;
const EXT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
};

const withType = (f: File): File => {
  if (f.type) return f;
  const t = EXT_TYPES[(f.name.split('.').pop() ?? '').toLowerCase()];
  return t ? new File([f], f.name, { type: t }) : f;
};

export function mountInspect(root: HTMLElement): void {
  const results: Result[] = [];
  let nextId = 1;
  let threshold = Number.NaN;
  let alpha = 0.5;
  let sort: 'desc' | 'asc' | 'none' = 'desc';
  let selectedId = 0;
  let galleryLimit = GALLERY_STEP;
  let stop = false;
  let running = 0;
  let scheduled = false;

  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', id: 'inspect-status' });
  const notice = h('p', { class: 'status notice', id: 'inspect-notice', 'aria-live': 'polite' });

  const modeServer = h('input', { type: 'radio', name: 'mode', value: 'server', id: 'mode-server', checked: true });
  const modeBrowser = h('input', { type: 'radio', name: 'mode', value: 'browser', id: 'mode-browser' });
  const mode = (): Mode => (modeBrowser.checked ? 'browser' : 'server');
  const modeField = h(
    'fieldset',
    {},
    h('legend', {}, 'Score'),
    h('label', { class: 'inline', for: 'mode-server' }, modeServer, 'on the server'),
    h('label', { class: 'inline', for: 'mode-browser' }, modeBrowser, 'in this browser (images stay here)'),
  );

  const files = h('input', { type: 'file', id: 'pick-files', multiple: true, accept: 'image/*', onchange: () => take([...(files.files ?? [])], files) });
  const folder = h('input', { type: 'file', id: 'pick-folder', webkitdirectory: true, onchange: () => take([...(folder.files ?? [])], folder) });
  const drop = h('div', { class: 'drop', id: 'drop' }, 'Drop images or a folder here, or use the pickers above.');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void dropped(e.dataTransfer);
  });
  const stopButton = h('button', { type: 'button', class: 'secondary', id: 'stop', disabled: true, onclick: () => (stop = true) }, 'Stop');
  const clearButton = h('button', { type: 'button', class: 'secondary', id: 'clear', onclick: () => clear() }, 'Clear results');

  const thr = h('input', { type: 'range', id: 'threshold', min: 0, max: 1, step: 0.001, oninput: () => setThreshold(Number(thr.value)) });
  const thrOut = h('output', { for: 'threshold', id: 'threshold-value' });
  const flaggedOut = h('p', { id: 'flagged', 'aria-live': 'polite' });
  const resetThr = h(
    'button',
    { type: 'button', class: 'secondary', id: 'reset-threshold', onclick: () => setThreshold(state.model?.image_threshold ?? 0) },
    "Model's threshold",
  );
  const opacity = h('input', { type: 'range', id: 'opacity', min: 0, max: 1, step: 0.05, value: alpha, oninput: () => setAlpha(Number(opacity.value)) });

  const canvas = h('canvas', { id: 'overlay', width: 1, height: 1, role: 'img', 'aria-label': 'No image selected' });
  const facts = h('dl', { class: 'facts', id: 'facts' });
  const tbody = h('tbody', { id: 'results-body' });
  const sortButton = h('button', { type: 'button', id: 'sort-score', onclick: () => cycleSort() }, 'Score');
  const scoreTh = h('th', { scope: 'col', 'aria-sort': 'descending' }, sortButton);
  const gallery = h('ul', { class: 'gallery', id: 'gallery', 'aria-label': 'Worst first' });
  const more = h('button', { type: 'button', class: 'secondary hidden', id: 'gallery-more', onclick: () => showMore() }, 'Show more');

  fill(
    root,
    h('h2', { id: 'h-inspect' }, 'Inspect'),
    h(
      'div',
      { class: 'panel' },
      h(
        'div',
        { class: 'row' },
        modelPicker(),
        modeField,
        h('label', { for: 'pick-files' }, 'Pick images', files),
        h('label', { for: 'pick-folder' }, 'Pick a folder', folder),
        stopButton,
        clearButton,
      ),
      drop,
      status,
      notice,
    ),
    h(
      'div',
      { class: 'panel' },
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'threshold' }, 'View threshold (raw score; does not change the model)', thr),
        thrOut,
        resetThr,
        h('label', { for: 'opacity' }, 'Heatmap opacity', opacity),
      ),
      flaggedOut,
    ),
    h('div', { class: 'panel detail' }, canvas, h('div', {}, h('h3', {}, 'Selected image'), facts)),
    h(
      'div',
      { class: 'panel' },
      h(
        'div',
        { class: 'row' },
        h('h3', { id: 'h-results' }, 'Results'),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            id: 'download-csv',
            onclick: () => download('simplenet-results.csv', resultsCsv(results, threshold), 'text/csv'),
          },
          'Download CSV',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            id: 'download-json',
            onclick: () => download('simplenet-results.json', resultsJson(results, threshold), 'application/json'),
          },
          'Download JSON',
        ),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'aria-labelledby': 'h-results' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Image'),
              scoreTh,
              h('th', { scope: 'col' }, 'Normalised'),
              h('th', { scope: 'col' }, 'Label'),
              h('th', { scope: 'col' }, 'Scored by'),
            ),
          ),
          tbody,
        ),
      ),
    ),
    h('div', { class: 'panel' }, h('h3', {}, 'Gallery, worst first'), gallery, more),
  );

  if (state.isStatic) {
    modeBrowser.checked = true;
    modeServer.disabled = true;
  }
  state.onChange(() => {
    if (state.model) setThreshold(state.model.image_threshold);
  });
  if (state.model) setThreshold(state.model.image_threshold);

  function showMore(): void {
    galleryLimit += GALLERY_STEP;
    schedule();
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  }

  function setThreshold(t: number): void {
    threshold = t;
    bounds();
    thr.value = String(t);
    schedule();
  }

  function setAlpha(a: number): void {
    alpha = a;
    for (const img of gallery.querySelectorAll<HTMLImageElement>('img.heat')) img.style.opacity = String(a);
    void drawSelected();
  }

  /** Slider bounds from the scores seen and the model's threshold, so every score is reachable. */
  function bounds(): void {
    const xs = results.filter((r) => r.score !== undefined).map((r) => r.score!);
    xs.push(state.model?.image_threshold ?? 0, threshold);
    const finite = xs.filter(Number.isFinite);
    let lo = Math.min(...finite);
    let hi = Math.max(...finite);
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 0.1;
    lo -= pad;
    hi += pad;
    thr.min = String(lo);
    thr.max = String(hi);
    thr.step = String((hi - lo) / 1000);
  }

  function cycleSort(): void {
    sort = sort === 'desc' ? 'asc' : sort === 'asc' ? 'none' : 'desc';
    scoreTh.setAttribute('aria-sort', { desc: 'descending', asc: 'ascending', none: 'none' }[sort]);
    schedule();
  }

  const labelText = (r: Result) => {
    if (r.state === 'error') return h('span', { class: 'error' }, r.error ?? 'failed');
    if (r.state !== 'done') return h('span', { class: 'muted' }, r.state === 'scoring' ? 'scoring…' : 'waiting');
    return flagged(r, threshold) ? h('span', { class: 'label-anomalous' }, 'anomalous') : h('span', { class: 'label-good' }, 'good');
  };

  function render(): void {
    const done = results.filter((r) => r.state === 'done');
    const n = done.filter((r) => flagged(r, threshold)).length;
    thrOut.textContent = num(threshold);
    flaggedOut.textContent = done.length ? `${n} of ${done.length} scored images flagged at this threshold` : 'No images scored yet.';
    const rows = sort === 'none' ? results : [...results].sort((a, b) => (sort === 'desc' ? 1 : -1) * ((b.score ?? -Infinity) - (a.score ?? -Infinity)));
    tbody.replaceChildren(
      ...rows.map((r) => {
        const tr = h(
          'tr',
          { tabindex: 0, 'data-id': r.id, 'aria-selected': r.id === selectedId ? 'true' : 'false' },
          h('td', {}, r.name),
          h('td', { class: 'score' }, num(r.score, 6)),
          h('td', {}, num(r.scoreNormalized)),
          h('td', { class: 'label' }, labelText(r)),
          h('td', {}, r.mode === 'browser' ? 'this browser' : r.mode === 'server' ? 'server' : ''),
        );
        tr.addEventListener('click', () => choose(r.id));
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            choose(r.id);
          }
        });
        return tr;
      }),
    );
    const worst = [...done].sort((a, b) => b.score! - a.score!);
    gallery.replaceChildren(
      ...worst.slice(0, galleryLimit).map((r) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              onclick: () => choose(r.id),
            },
            h(
              'span',
              { class: 'stack' },
              h('img', { src: r.cropUrl, alt: '', loading: 'lazy' }),
              h('img', { class: 'heat', src: r.heatmapUrl, alt: '', loading: 'lazy', style: `opacity:${alpha}` }),
            ),
            h('span', { class: 'cap' }, `${r.name} · ${num(r.score)} · `, labelText(r)),
          ),
        ),
      ),
    );
    more.classList.toggle('hidden', worst.length <= galleryLimit);
    renderFacts();
  }

  function renderFacts(): void {
    const r = results.find((x) => x.id === selectedId);
    if (!r) {
      fill(facts, h('dt', {}, 'Image'), h('dd', {}, 'none selected: pick a row or a gallery tile'));
      return;
    }
    const by = r.mode === 'browser' ? 'this browser (onnxruntime-web, wasm)' : 'the server';
    fill(
      facts,
      h('dt', {}, 'Image'),
      h('dd', { id: 'facts-name' }, r.name),
      h('dt', {}, 'Score (raw)'),
      h('dd', { id: 'facts-score' }, r.score === undefined ? '—' : String(r.score)),
      h('dt', {}, 'Normalised'),
      h('dd', { id: 'facts-normalized' }, r.scoreNormalized === undefined ? '—' : String(r.scoreNormalized)),
      h('dt', {}, 'Label (view threshold)'),
      h('dd', { id: 'facts-label' }, labelText(r)),
      h('dt', {}, "Model's label"),
      h('dd', {}, r.modelLabel === undefined ? '—' : r.modelLabel ? 'anomalous' : 'good'),
      h('dt', {}, 'Scored by'),
      h('dd', { id: 'facts-mode' }, r.state === 'done' ? `${by}${r.model ? `, model ${r.model}` : ''}, in ${num(r.ms, 3)} ms` : '—'),
    );
  }

  function choose(id: number): void {
    selectedId = id;
    for (const tr of tbody.querySelectorAll('tr')) tr.setAttribute('aria-selected', tr.dataset.id === String(id) ? 'true' : 'false');
    renderFacts();
    void drawSelected();
  }

  const loaded = new Map<string, Promise<HTMLImageElement>>();
  const image = (url: string) => {
    let p = loaded.get(url);
    if (!p) {
      const img = new Image();
      img.src = url;
      p = img.decode().then(() => img);
      loaded.set(url, p);
    }
    return p;
  };

  async function drawSelected(): Promise<void> {
    const r = results.find((x) => x.id === selectedId);
    if (!r?.cropUrl || !r.heatmapUrl) return;
    const [crop, heat] = await Promise.all([image(r.cropUrl), image(r.heatmapUrl)]);
    if (r.id !== selectedId) return;
    drawOverlay(canvas, crop, heat, r.size ?? crop.naturalWidth, alpha);
    canvas.dataset.resultId = String(r.id);
    canvas.setAttribute('aria-label', `${r.name}: heatmap over the image at opacity ${alpha}`);
  }

  function clear(): void {
    for (const r of results) for (const u of [r.cropUrl, r.heatmapUrl]) if (u) URL.revokeObjectURL(u);
    results.length = 0;
    loaded.clear();
    selectedId = 0;
    galleryLimit = GALLERY_STEP;
    fill(notice);
    status.textContent = '';
    canvas.width = canvas.height = 1;
    schedule();
  }

  async function dropped(dt: DataTransfer | null): Promise<void> {
    if (!dt) return;
    const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => Boolean(e));
    if (entries.length === 0) return take([...dt.files]);
    const out: File[] = [];
    // A dropped folder is walked, but never past the cap: a folder of 100 000 files must not stall the tab.
    const walk = async (e: FileSystemEntry): Promise<void> => {
      if (out.length > MAX_FILES * 4) return;
      if (e.isFile) out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
      else if (e.isDirectory) {
        const reader = (e as FileSystemDirectoryEntry).createReader();
        for (;;) {
          const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
          if (batch.length === 0) break;
          for (const c of batch) await walk(c);
        }
      }
    };
    for (const e of entries) await walk(e);
    return take(out);
  }

  async function take(list: File[], input?: HTMLInputElement): Promise<void> {
    if (input) input.value = '';
    const model = state.selected;
    if (!model) {
      status.textContent = 'No model to score with.';
      return;
    }
    const images = list.filter((f) => f.type.startsWith('image/') || IMAGE_NAME.test(f.name)).map(withType);
    const skipped = list.length - images.length;
    const notes: string[] = [];
    if (skipped) {
      const names = list
        .filter((f) => !images.some((i) => i.name === f.name))
        .slice(0, 3)
        .map((f) => f.name);
      notes.push(
        `Skipped ${skipped} file${skipped > 1 ? 's' : ''} that ${skipped > 1 ? 'are' : 'is'} not an image (${names.join(', ')}${skipped > 3 ? ', …' : ''}).`,
      );
    }
    let batch = images;
    if (images.length > MAX_FILES) {
      batch = images.slice(0, MAX_FILES);
      notes.push(
        `${images.length} images given: scoring the first ${MAX_FILES} (the cap keeps the page responsive; score the rest in another batch or with the CLI).`,
      );
    }
    notice.textContent = notes.join(' ');
    if (batch.length === 0) {
      if (!skipped) status.textContent = 'Nothing to score.';
      return;
    }
    const m = mode();
    const rows = batch.map((f): Result & { file: File } => ({ id: nextId++, name: f.webkitRelativePath || f.name, state: 'queued', file: f }));
    results.push(...rows);
    schedule();
    stop = false;
    running++;
    stopButton.disabled = false;
    const info = state.model;
    let done = 0;
    let failed = 0;
    const report = () => {
      status.textContent = `${m === 'browser' ? 'In this browser' : 'On the server'}: scored ${done} of ${rows.length}${failed ? ` (${failed} failed: see the table)` : ''}.`;
    };
    report();
    const browser = m === 'browser' ? await import('./browserScorer.js') : undefined;
    if (browser) {
      try {
        status.textContent = 'Loading the model into this browser…';
        await browser.prepareBrowser(state.onnxUrl(model));
      } catch (e) {
        for (const r of rows) Object.assign(r, { state: 'error', error: `cannot load the model in this browser: ${(e as Error).message}` });
        status.textContent = `Cannot score in this browser: ${(e as Error).message}`;
        running--;
        stopButton.disabled = running === 0;
        schedule();
        return;
      }
    }
    // The browser runs one graph at a time; the server batches, so a few requests in flight keep it busy.
    await runPool(
      rows,
      browser ? 1 : 4,
      async (r) => {
        r.state = 'scoring';
        schedule();
        try {
          if (browser && !info) throw new Error(`model '${model}' is not in the list any more`);
          const s: Scored =
            browser && info ? await browser.scoreInBrowser(state.onnxUrl(model), r.file, info) : await scoreOnServer(model, r.file, info?.map_size ?? 0);
          Object.assign(r, {
            state: 'done',
            mode: m,
            model,
            score: s.score,
            scoreNormalized: s.scoreNormalized,
            modelLabel: s.label,
            ms: s.ms,
            size: s.size,
            cropUrl: URL.createObjectURL(s.crop),
            heatmapUrl: URL.createObjectURL(s.heatmap),
          });
          done++;
          if (!selectedId) choose(r.id);
        } catch (e) {
          Object.assign(r, { state: 'error', error: (e as Error).message });
          failed++;
        }
        bounds();
        report();
        schedule();
        // Let the page paint between images in browser mode.
        if (browser) await new Promise((res) => setTimeout(res, 0));
      },
      () => stop,
    );
    for (const r of rows) if (r.state === 'queued') Object.assign(r, { state: 'error', error: 'stopped before scoring' });
    running--;
    stopButton.disabled = running === 0;
    report();
    schedule();
  }
}
