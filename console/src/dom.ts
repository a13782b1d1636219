/** A small element builder: attributes (strings, booleans, `on*` handlers) and children. */
export type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | number | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

let counter = 0;
/** A unique id for label/field/error wiring. */
export const uid = (prefix: string) => `${prefix}-${++counter}`;

/** A labelled input with an error slot (`data-field` names the API field whose errors appear there). */
export function field(
  label: string,
  apiField: string,
  input: Attrs & { type?: string },
  hint?: string,
): { wrap: HTMLDivElement; input: HTMLInputElement } {
  const id = uid('f');
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = `${id}-error`;
  const el = h('input', {
    type: 'text',
    ...input,
    id,
    name: apiField,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
  });
  const wrap = h(
    'div',
    { class: 'field', 'data-field': apiField },
    h('label', { for: id }, label),
    el,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'error', id: errId, 'data-error-for': apiField }),
  );
  return { wrap, input: el };
}

export function clearErrors(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('[data-error-for]').forEach((e) => (e.textContent = ''));
  root.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/**
 * Shows an API error next to the field it names (`field` in the error body; `organizations.0` falls back to
 * `organizations`), else in the form's general slot; focuses the field in error.
 */
export function showError(root: ParentNode, apiField: string | undefined, message: string): void {
  const names = apiField ? [apiField, apiField.split('.')[0]!] : [];
  for (const name of names) {
    const slot = root.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = message;
    const input = root.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"] input`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } else slot.setAttribute('tabindex', '-1');
    if (!input) slot.focus();
    return;
  }
  const general = root.querySelector<HTMLElement>('[data-error-for="_"]');
  if (general) {
    general.textContent = message;
    general.focus();
  }
}

/** The general error slot of a form (errors without a field). */
export const generalError = () => h('p', { class: 'error', 'data-error-for': '_', role: 'alert', tabindex: '-1' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A horizontally scrollable, keyboard-reachable wrapper for a wide table on a small screen. */
export function tableWrap(label: string, table: HTMLTableElement): HTMLDivElement {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

/** Replaces an element's children, skipping absent ones. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}
