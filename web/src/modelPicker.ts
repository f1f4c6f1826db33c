/** A labelled model <select> kept in step with the shared state (every page picks the same model). */
import { h, uid } from './dom.js';
import { state } from './state.js';

export function modelPicker(): HTMLLabelElement {
  const id = uid('model');
  const select = h('select', { id, onchange: () => state.select(select.value) });
  const sync = () => {
    select.replaceChildren(...state.models.map((m) => h('option', { value: m.name }, m.name)));
    select.value = state.selected;
    select.disabled = state.models.length < 2;
  };
  state.onChange(sync);
  sync();
  return h('label', { for: id }, 'Model', select);
}
