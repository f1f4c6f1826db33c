/**
 * The Train page: a form for a training job on a dataset under the server's data root (a listed
 * one, or another folder typed in, which the server checks), the job list, and the chosen job's
 * live progress over server-sent events (`job`, `progress`), with cancel and resume. When the
 * server has no training (`GET /v1/datasets` answers 409 `jobs_disabled`, or 404) it says so and
 * offers nothing else.
 */
import { ApiError, getJson, postJson, token } from './api.js';
import { lineChart } from './chart.js';
import { fill, h, num } from './dom.js';
import { state } from './state.js';
import type { DatasetEntry, EpochRecord, Job, JobProgress } from './types.js';

const ACTIVE = new Set(['queued', 'running']);
/** The dataset picker's value for a folder typed in rather than listed. */
const OTHER = 'other';
const EPOCH_TASK = /^epoch (\d+)\/(\d+)$/;
const BUILTIN_BACKBONES: [string, string][] = [
  ['mobilenet_v2', 'packaged, fast'],
  ['wide_resnet50', 'paper'],
];

/** Finished epochs plus the share done of the epoch under way: the bar's and the live curve's x. */
function epochsDone(p: JobProgress): number {
  const m = p.task ? EPOCH_TASK.exec(p.task) : null;
  const inEpoch = m && Number(m[1]) === p.epoch + 1 && p.steps > 0 ? Math.min(1, p.step / p.steps) : 0;
  return p.epoch + inEpoch;
}

function eta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '';
  const m = Math.floor(s / 60);
  return m ? `${m} min ${Math.round(s % 60)} s left` : `${Math.round(s)} s left`;
}

export function mountTrain(root: HTMLElement): void {
  const body = h('div', { id: 'train-body' });
  fill(root, h('h2', { id: 'h-train' }, 'Train'), body);
  let started = false;
  let source: EventSource | undefined;
  let jobs: Job[] = [];
  let current: Job | undefined;
  /** Loss at each progress event of the watched job (x: fractional epoch), for the live curve. */
  let live: [number, number][] = [];

  const formStatus = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', id: 'train-status' });
  const jobList = h('ul', { class: 'jobs', id: 'jobs' });
  // The watched job: its state and progress (redrawn on every event), its actions (rebuilt only when
  // the job or its state changes, so a button is never replaced under a click or the focus), charts.
  const jobHead = h('div', { 'aria-live': 'polite' });
  const jobActions = h('div', { class: 'row', id: 'job-actions' });
  const jobCharts = h('div', { class: 'charts' });
  const jobView = h('div', { id: 'job-view' }, jobHead, jobActions, jobCharts);
  let actionsFor = '';

  /** Called when the page is shown: loads the datasets once (404: training is off on this server). */
  root.addEventListener('page-shown', () => {
    if (!started) void start();
  });

  async function start(): Promise<void> {
    started = true;
    if (state.isStatic) {
      fill(body, h('p', { class: 'panel', id: 'train-off' }, 'This is a static copy of the inspect page: training needs simplenet serve.'));
      return;
    }
    fill(body, h('p', { role: 'status' }, 'Loading datasets…'));
    let data: { root: string; entries: DatasetEntry[] };
    try {
      data = await getJson('v1/datasets');
    } catch (e) {
      const off = e instanceof ApiError && (e.status === 404 || e.code === 'jobs_disabled');
      fill(
        body,
        h(
          'p',
          { class: off ? 'panel' : 'panel error', id: 'train-off' },
          off
            ? 'Training is not enabled on this server (start it with --data-root <dir> to train from the browser).'
            : `Cannot list datasets: ${(e as Error).message}`,
        ),
      );
      if (!off) started = false;
      return;
    }
    renderForm(data);
    await refreshJobs();
  }

  function renderForm(data: { root: string; entries: DatasetEntry[] }): void {
    const dataset = h('select', { id: 'train-dataset', required: true });
    const category = h('select', { id: 'train-category' });
    const categoryLabel = h('label', { for: 'train-category' }, 'Category', category);
    dataset.replaceChildren(
      ...data.entries.map((e, i) =>
        h('option', { value: i }, `${e.path || '.'} (${e.format}, ${e.goodImages} good images${e.categories ? `, ${e.categories.length} categories` : ''})`),
      ),
      h('option', { value: OTHER }, 'Another folder…'),
    );
    // A folder typed in: its path relative to the data root, its format, its category if any.
    const otherPath = h('input', { type: 'text', id: 'train-path', autocomplete: 'off', spellcheck: 'false' });
    const otherFormat = h('select', { id: 'train-format' }, h('option', { value: 'folder' }, 'folder of images'), h('option', { value: 'mvtec' }, 'mvtec'));
    const otherCategory = h('input', { type: 'text', id: 'train-other-category', autocomplete: 'off' });
    const other = h(
      'div',
      { class: 'row', id: 'train-other' },
      h('label', { for: 'train-path' }, 'Folder (relative to the data root)', otherPath),
      h('label', { for: 'train-format' }, 'Format', otherFormat),
      h('label', { for: 'train-other-category' }, 'Category (mvtec)', otherCategory),
    );
    const syncCategories = () => {
      const isOther = dataset.value === OTHER;
      const e = isOther ? undefined : data.entries[Number(dataset.value)];
      category.replaceChildren(...(e?.categories ?? []).map((c) => h('option', { value: c }, c)));
      categoryLabel.classList.toggle('hidden', !e?.categories?.length);
      other.classList.toggle('hidden', !isOther);
      otherPath.required = isOther;
    };
    dataset.addEventListener('change', syncCategories);
    syncCategories();
    const name = h('input', { type: 'text', id: 'train-name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}', value: 'my-model' });
    // A builtin name, or a backbone manifest (.json) under the data root: free text with suggestions.
    const backbone = h('input', { type: 'text', id: 'train-backbone', list: 'train-backbones', required: true, value: 'mobilenet_v2', autocomplete: 'off' });
    const backbones = h('datalist', { id: 'train-backbones' }, ...BUILTIN_BACKBONES.map(([v, what]) => h('option', { value: v }, `${v} (${what})`)));
    // Empty: the library's default (at least 6 epochs and 192 steps; 160 under 'paper'), as the CLI.
    const epochs = h('input', { type: 'number', id: 'train-epochs', min: 1, max: 1000, placeholder: 'default' });
    const preset = h(
      'select',
      { id: 'train-preset' },
      h('option', { value: 'validated' }, 'validated (epoch chosen on synthetic defects)'),
      h('option', { value: 'paper' }, 'paper'),
    );
    const seed = h('input', { type: 'number', id: 'train-seed', value: 0, required: true });
    const submit = h('button', { type: 'submit', id: 'train-start' }, 'Start training');
    const form = h(
      'form',
      { class: 'panel', 'aria-labelledby': 'h-new-job' },
      h('h3', { id: 'h-new-job' }, 'New model'),
      h('p', { class: 'muted' }, `Datasets under the server's data root ${data.root}.`),
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'train-name' }, 'Model name', name),
        h('label', { for: 'train-dataset' }, 'Dataset', dataset),
        categoryLabel,
        h('label', { for: 'train-backbone' }, 'Backbone (name or manifest .json under the data root)', backbone, backbones),
        h('label', { for: 'train-epochs' }, 'Epochs', epochs),
        h('label', { for: 'train-preset' }, 'Preset', preset),
        h('label', { for: 'train-seed' }, 'Seed', seed),
        submit,
      ),
      other,
      formStatus,
    );
    if (data.entries.length === 0) {
      formStatus.textContent = 'No datasets found under the data root: type a folder instead.';
      dataset.value = OTHER;
      syncCategories();
    }
    /** The posted dataset: a listed entry (with its category), or the folder typed in. */
    const chosen = (): { format: string; path: string; category?: string } | undefined => {
      if (dataset.value === OTHER) {
        const c = otherCategory.value.trim();
        return { format: otherFormat.value, path: otherPath.value.trim(), ...(c ? { category: c } : {}) };
      }
      const e = data.entries[Number(dataset.value)];
      if (!e) return undefined;
      // The data root itself is listed as ''; the server wants a non-empty path.
      return { format: e.format, path: e.path || '.', ...(e.categories?.length ? { category: category.value } : {}) };
    };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const ds = chosen();
      if (!ds) return;
      submit.disabled = true;
      formStatus.className = 'status';
      formStatus.textContent = 'Starting…';
      try {
        const { job } = await postJson<{ job: Job }>('v1/jobs', {
          kind: 'train',
          name: name.value,
          dataset: ds,
          backbone: backbone.value.trim(),
          ...(epochs.value ? { epochs: Number(epochs.value) } : {}),
          preset: preset.value,
          seed: Number(seed.value),
        });
        formStatus.textContent = `Job ${job.id} (${job.spec.name}) ${job.state}.`;
        current = undefined;
        await refreshJobs(job.id);
      } catch (err) {
        formStatus.className = 'status error';
        formStatus.textContent = `Not started: ${(err as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    });
    fill(body, form, h('div', { class: 'panel' }, h('h3', {}, 'Jobs'), jobList), h('div', { class: 'panel' }, h('h3', {}, 'Progress'), jobView));
  }

  /** Reads the job list (oldest first); watches `pick`, else the running job, else the newest. */
  async function refreshJobs(pick?: string): Promise<void> {
    try {
      jobs = (await getJson<{ jobs: Job[] }>('v1/jobs')).jobs;
    } catch (e) {
      fill(jobList, h('li', { class: 'error' }, `Cannot list jobs: ${(e as Error).message}`));
      return;
    }
    renderJobs();
    if (!current) {
      const chosen = jobs.find((j) => j.id === pick) ?? jobs.find((j) => j.state === 'running') ?? jobs.find((j) => ACTIVE.has(j.state)) ?? jobs.at(-1);
      if (chosen) watch(chosen.id);
    }
  }

  function renderJobs(): void {
    if (jobs.length === 0) {
      fill(jobList, h('li', { class: 'muted' }, 'No jobs yet.'));
      return;
    }
    // Newest first.
    fill(
      jobList,
      ...[...jobs]
        .reverse()
        .map((j) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'secondary', onclick: () => watch(j.id), 'aria-pressed': current?.id === j.id ? 'true' : 'false' },
              `${j.spec.name}`,
            ),
            ` ${j.state}, created ${new Date(j.createdAt).toLocaleString()}`,
          ),
        ),
    );
  }

  function watch(id: string): void {
    source?.close();
    if (current?.id !== id) live = [];
    current = jobs.find((j) => j.id === id);
    renderJob();
    const url = new URL(`v1/jobs/${encodeURIComponent(id)}/events`, document.baseURI);
    // EventSource cannot send headers: a token-protected server is read by polling instead.
    if (token()) {
      void poll(id);
      return;
    }
    source = new EventSource(url);
    source.addEventListener('job', (e) => update(JSON.parse((e as MessageEvent).data) as Job));
    source.addEventListener('progress', (e) => {
      if (!current || current.id !== id) return;
      const p = JSON.parse((e as MessageEvent).data) as JobProgress;
      current.progress = p;
      // The loss is the last finished epoch's: one live point per epoch the history does not hold yet.
      const last = live.at(-1);
      if (p.loss !== undefined && p.epoch > 0 && (!last || last[0] < p.epoch) && !current.history.some((r) => r.epoch === p.epoch))
        live.push([p.epoch, p.loss]);
      renderJob();
    });
    source.onerror = () => {
      if (current && !ACTIVE.has(current.state)) source?.close();
    };
  }

  async function poll(id: string): Promise<void> {
    while (current?.id === id) {
      try {
        update((await getJson<{ job: Job }>(`v1/jobs/${encodeURIComponent(id)}`)).job);
      } catch {
        /* the next poll retries */
      }
      if (!current || !ACTIVE.has(current.state)) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  function update(job: Job): void {
    const before = current?.id === job.id ? current.state : undefined;
    if (current?.id !== job.id) live = [];
    current = job;
    const i = jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) jobs[i] = job;
    else jobs.push(job);
    renderJobs();
    renderJob();
    // A saved model joins the picker as soon as the job succeeds.
    if (job.state === 'succeeded' && before !== 'succeeded') void state.load();
    if (!ACTIVE.has(job.state)) source?.close();
  }

  async function act(job: Job, what: 'cancel' | 'resume'): Promise<void> {
    try {
      update((await postJson<{ job: Job }>(`v1/jobs/${encodeURIComponent(job.id)}/${what}`)).job);
      if (what === 'resume') watch(job.id);
    } catch (e) {
      jobView.prepend(h('p', { class: 'error', role: 'alert' }, `${what} failed: ${(e as Error).message}`));
    }
  }

  function renderJob(): void {
    const j = current;
    if (!j) {
      fill(jobHead, h('p', { class: 'muted' }, 'Start a job or pick one.'));
      fill(jobActions);
      fill(jobCharts);
      actionsFor = '';
      return;
    }
    const p = j.progress;
    const history = j.history ?? [];
    const pts = (k: keyof EpochRecord) =>
      history.map((r, i): [number, number] => [r.epoch ?? i + 1, r[k] == null ? Number.NaN : Number(r[k])]).filter(([, y]) => Number.isFinite(y));
    const done = p ? epochsDone(p) : 0;
    fill(
      jobHead,
      h(
        'p',
        { id: 'job-state' },
        h('strong', {}, j.spec.name),
        ` — ${j.state}${j.error ? `: ${j.error}` : ''}${j.model ? ` (model ${j.model})` : ''}${j.resumes ? `, resumed ${j.resumes}×` : ''}`,
      ),
      p
        ? h(
            'p',
            { class: 'progress', id: 'job-progress' },
            p.task ? `${p.task}: ` : '',
            `${p.epoch} of ${p.epochs || '?'} epochs done, step ${p.step} of ${p.steps}`,
            p.loss !== undefined ? `, loss ${num(p.loss)}` : '',
            p.val_image_auroc != null ? `, validation image AUROC ${num(p.val_image_auroc)}` : '',
            ACTIVE.has(j.state) && p.eta_s !== undefined ? `, ${eta(p.eta_s)}` : '',
          )
        : null,
      p?.message ? h('p', { class: 'muted', id: 'job-message' }, p.message) : null,
      p
        ? h('progress', {
            max: Math.max(1, p.epochs),
            value: Math.min(p.epochs, done),
            'aria-label': 'Training progress (epochs)',
          })
        : null,
    );
    const key = `${j.id} ${ACTIVE.has(j.state) ? 'active' : j.state}`;
    if (key !== actionsFor) {
      actionsFor = key;
      const id = j.id;
      const job = () => (current?.id === id ? current : j);
      fill(
        jobActions,
        ACTIVE.has(j.state) ? h('button', { type: 'button', class: 'secondary', id: 'job-cancel', onclick: () => act(job(), 'cancel') }, 'Cancel') : null,
        j.state === 'interrupted' ? h('button', { type: 'button', id: 'job-resume', onclick: () => act(job(), 'resume') }, 'Resume') : null,
      );
    }
    fill(
      jobCharts,
      lineChart('Loss', 'epoch', [
        { name: 'per epoch', points: pts('loss') },
        { name: 'live', points: live },
      ]),
      lineChart('Discriminator rates', 'epoch', [
        { name: 'p_true', points: pts('p_true') },
        { name: 'p_fake', points: pts('p_fake') },
      ]),
      lineChart('Validation AUROC', 'epoch', [
        { name: 'image', points: pts('val_image_auroc') },
        { name: 'patch', points: pts('val_patch_auroc') },
      ]),
    );
  }
}
