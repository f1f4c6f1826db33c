/**
 * The Train page: a form for a training job on a dataset under the server's data root, the job
 * list, and the chosen job's live progress over server-sent events, with cancel and resume. When
 * the server has no training (`GET /v1/datasets` is 404) it says so and offers nothing else.
 */
import { ApiError, getJson, postJson, token } from './api.js';
import { lineChart } from './chart.js';
import { fill, h, num } from './dom.js';
import { state } from './state.js';
import type { DatasetEntry, Job, JobProgress } from './types.js';

const ACTIVE = new Set(['queued', 'running']);

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
  const jobView = h('div', { id: 'job-view', 'aria-live': 'polite' });

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
      const off = e instanceof ApiError && e.status === 404;
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
        h('option', { value: i }, `${e.path} (${e.format}, ${e.goodImages} good images${e.categories ? `, ${e.categories.length} categories` : ''})`),
      ),
    );
    const syncCategories = () => {
      const e = data.entries[Number(dataset.value)];
      category.replaceChildren(...(e?.categories ?? []).map((c) => h('option', { value: c }, c)));
      categoryLabel.classList.toggle('hidden', !e?.categories?.length);
    };
    dataset.addEventListener('change', syncCategories);
    syncCategories();
    const name = h('input', { type: 'text', id: 'train-name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}', value: 'my-model' });
    const backbone = h(
      'select',
      { id: 'train-backbone' },
      h('option', { value: 'mobilenet_v2' }, 'mobilenet_v2 (packaged, fast)'),
      h('option', { value: 'wide_resnet50' }, 'wide_resnet50 (paper)'),
    );
    const epochs = h('input', { type: 'number', id: 'train-epochs', min: 1, max: 1000, value: 10, required: true });
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
        h('label', { for: 'train-backbone' }, 'Backbone', backbone),
        h('label', { for: 'train-epochs' }, 'Epochs', epochs),
        h('label', { for: 'train-preset' }, 'Preset', preset),
        h('label', { for: 'train-seed' }, 'Seed', seed),
        submit,
      ),
      formStatus,
    );
    if (data.entries.length === 0) formStatus.textContent = 'No datasets under the data root.';
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const e = data.entries[Number(dataset.value)];
      if (!e) return;
      submit.disabled = true;
      formStatus.className = 'status';
      formStatus.textContent = 'Starting…';
      try {
        const { job } = await postJson<{ job: Job }>('v1/jobs', {
          kind: 'train',
          name: name.value,
          dataset: { format: e.format, path: e.path, ...(e.categories?.length ? { category: category.value } : {}) },
          backbone: backbone.value,
          epochs: Number(epochs.value),
          preset: preset.value,
          seed: Number(seed.value),
        });
        formStatus.textContent = `Job ${job.id} ${job.state}.`;
        await refreshJobs();
        watch(job.id);
      } catch (err) {
        formStatus.className = 'status error';
        formStatus.textContent = `Not started: ${(err as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    });
    fill(body, form, h('div', { class: 'panel' }, h('h3', {}, 'Jobs'), jobList), h('div', { class: 'panel' }, h('h3', {}, 'Progress'), jobView));
  }

  async function refreshJobs(): Promise<void> {
    try {
      jobs = (await getJson<{ jobs: Job[] }>('v1/jobs')).jobs;
    } catch (e) {
      fill(jobList, h('li', { class: 'error' }, `Cannot list jobs: ${(e as Error).message}`));
      return;
    }
    renderJobs();
    if (!current) {
      const active = jobs.find((j) => ACTIVE.has(j.state)) ?? jobs[0];
      if (active) watch(active.id);
    }
  }

  function renderJobs(): void {
    if (jobs.length === 0) {
      fill(jobList, h('li', { class: 'muted' }, 'No jobs yet.'));
      return;
    }
    fill(
      jobList,
      ...jobs.map((j) =>
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
      if (p.loss !== undefined && p.steps > 0) live.push([p.epoch - 1 + p.step / p.steps, p.loss]);
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
    const before = current?.state;
    current = job;
    const i = jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) jobs[i] = job;
    else jobs.unshift(job);
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
      fill(jobView, h('p', { class: 'muted' }, 'Start a job or pick one.'));
      return;
    }
    const p = j.progress;
    const history = j.history ?? [];
    const pts = (k: string) =>
      history.map((r, i): [number, number] => [Number(r.epoch ?? i + 1), r[k] == null ? Number.NaN : Number(r[k])]).filter(([, y]) => Number.isFinite(y));
    fill(
      jobView,
      h('p', {}, h('strong', {}, j.spec.name), ` — ${j.state}${j.error ? `: ${j.error}` : ''}${j.model ? ` (model ${j.model})` : ''}`),
      p
        ? h(
            'p',
            { class: 'progress', id: 'job-progress' },
            `epoch ${p.epoch} of ${p.epochs}, step ${p.step} of ${p.steps}`,
            p.loss !== undefined ? `, loss ${num(p.loss)}` : '',
            p.eta_s !== undefined ? `, ${eta(p.eta_s)}` : '',
          )
        : null,
      p
        ? h('progress', {
            max: Math.max(1, p.epochs * Math.max(1, p.steps)),
            value: Math.max(0, p.epoch - 1) * p.steps + p.step || 0,
            'aria-label': 'Training progress',
          })
        : null,
      h(
        'div',
        { class: 'row' },
        ACTIVE.has(j.state) ? h('button', { type: 'button', class: 'secondary', id: 'job-cancel', onclick: () => act(j, 'cancel') }, 'Cancel') : null,
        j.state === 'interrupted' ? h('button', { type: 'button', id: 'job-resume', onclick: () => act(j, 'resume') }, 'Resume') : null,
      ),
      h(
        'div',
        { class: 'charts' },
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
      ),
    );
  }
}
