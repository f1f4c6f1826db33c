/**
 * What the pages share: where the page runs (served by `simplenet serve`, or the static folder of
 * `export --web` with its one model), the models, and the one picked. Pages subscribe to changes.
 */
import { getJson } from './api.js';
import type { ModelInfo } from './types.js';

export interface StaticManifest {
  format: 'simplenet-web';
  simplenet_version: string;
  model: ModelInfo;
}

type Listener = () => void;

class AppState {
  /** The static export's manifest; undefined when a server answers. */
  staticSite?: StaticManifest;
  models: ModelInfo[] = [];
  selected = '';
  private listeners: Listener[] = [];

  get isStatic(): boolean {
    return this.staticSite !== undefined;
  }

  get model(): ModelInfo | undefined {
    return this.models.find((m) => m.name === this.selected);
  }

  /** Where the scoring graph of a model is fetched from. */
  onnxUrl(name: string): string {
    return this.isStatic ? 'model.onnx' : `v1/models/${encodeURIComponent(name)}/model.onnx`;
  }

  onChange(f: Listener): void {
    this.listeners.push(f);
  }

  select(name: string): void {
    this.selected = name;
    for (const f of this.listeners) f();
  }

  /** Reads the server's model list; where no server answers it (a static host: 404), the export's manifest. */
  async load(): Promise<void> {
    if (this.staticSite === undefined) {
      try {
        this.models = (await getJson<{ models: ModelInfo[] }>('v1/models')).models;
      } catch (e) {
        const r = await fetch('simplenet-web.json').catch(() => undefined);
        const m = r?.ok ? ((await r.json().catch(() => undefined)) as StaticManifest | undefined) : undefined;
        if (m?.format !== 'simplenet-web') throw e;
        this.staticSite = m;
      }
    }
    if (this.staticSite) this.models = [this.staticSite.model];
    const keep = this.models.some((m) => m.name === this.selected);
    this.select(keep ? this.selected : (this.models[0]?.name ?? ''));
  }
}

export const state = new AppState();
