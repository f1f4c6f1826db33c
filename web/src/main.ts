/**
 * The web app's entry: three pages (Inspect, Model card, Train) switched by the address's hash,
 * over the shared model state. Served by `simplenet serve` at /, or as the static folder of
 * `simplenet export --web` (Inspect only, scoring in the browser).
 */
import { ApiError, setToken } from './api.js';
import { h } from './dom.js';
import { mountInspect } from './inspect.js';
import { mountModelCard } from './modelCard.js';
import { state } from './state.js';
import { mountTrain } from './train.js';

const PAGES = ['inspect', 'model', 'train'] as const;
type Page = (typeof PAGES)[number];

function show(page: Page): void {
  for (const p of PAGES) {
    const section = document.getElementById(`page-${p}`)!;
    section.hidden = p !== page;
    if (p === page) section.dispatchEvent(new Event('page-shown'));
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#tabs a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route(): void {
  const p = location.hash.slice(1) as Page;
  show(PAGES.includes(p) ? p : 'inspect');
}

/** When the server wants a token: one field, kept for this tab's session. */
function askToken(main: HTMLElement, why: string): void {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'panel' },
    h('p', { class: 'error' }, why),
    h('label', { for: 'token' }, 'Access token', input),
    h('button', { type: 'submit' }, 'Use token'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    location.reload();
  });
  main.prepend(form);
}

async function boot(): Promise<void> {
  const main = document.getElementById('main')!;
  const where = document.getElementById('where')!;
  try {
    await state.load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) askToken(main, 'This server needs an access token.');
    else main.prepend(h('p', { class: 'panel error', role: 'alert' }, `Cannot load the models: ${(e as Error).message}`));
  }
  where.textContent = state.isStatic
    ? `Static copy: model ${state.selected}, scored in this browser`
    : `Server: ${state.models.length} model${state.models.length === 1 ? '' : 's'}${crossOriginIsolated ? '' : ' (not cross-origin isolated: browser scoring runs on one thread)'}`;
  mountInspect(document.getElementById('page-inspect')!);
  mountModelCard(document.getElementById('page-model')!);
  mountTrain(document.getElementById('page-train')!);
  if (state.isStatic) document.querySelector('#tabs a[data-page="train"]')?.parentElement?.remove();
  window.addEventListener('hashchange', route);
  route();
  document.body.dataset.ready = 'true';
}

void boot();
