import { h, uid, type Child } from './dom.js';

const dialog = () => document.getElementById('dialog') as HTMLDialogElement;

/** Opens the page's one modal dialog with this content; focus returns to the opener when it closes. */
let opener: HTMLElement | null = null;

/**
 * Opens the page's one modal dialog with this content (or replaces the content of the open one); focus returns to
 * the control that opened it when it closes.
 */
export function openDialog(title: string, content: Child[], options: { escapable?: boolean } = {}): HTMLDialogElement {
  const d = dialog();
  if (!d.open) opener = document.activeElement as HTMLElement | null;
  d.replaceChildren(h('h2', { id: 'dialog-title' }, title), ...content.filter((c): c is Node | string => !!c));
  d.oncancel = (e) => {
    if (options.escapable === false) e.preventDefault();
  };
  d.onclose = () => {
    d.replaceChildren();
    if (opener && document.contains(opener)) opener.focus();
  };
  if (!d.open) d.showModal();
  return d;
}

export function closeDialog(): void {
  const d = dialog();
  if (d.open) d.close();
}

/**
 * A secret, key or token shown once: a read-only field, "Copy", and "I have stored it", which closes the dialog and
 * drops the value from the page. Escape does not close it (the value would be lost unnoticed).
 */
export function showOnce(
  title: string,
  intro: string,
  label: string,
  value: string,
  more: Child[] = [],
): Promise<void> {
  return new Promise((resolve) => {
    const id = uid('once');
    const status = h('p', { class: 'hint', role: 'status' });
    const input = h('input', { type: 'text', id, class: 'secret', readonly: true, value, spellcheck: 'false' });
    const copy = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          input.select();
          navigator.clipboard
            ?.writeText(value)
            .then(() => (status.textContent = 'Copied to the clipboard.'))
            .catch(() => (status.textContent = 'Copy failed: the value is selected, press Ctrl+C.'));
          if (!navigator.clipboard) status.textContent = 'The value is selected, press Ctrl+C.';
        },
      },
      'Copy',
    );
    const done = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          closeDialog();
          resolve();
        },
      },
      'I have stored it',
    );
    openDialog(
      title,
      [
        h('p', {}, intro),
        h('p', { class: 'notice' }, 'It is shown only now: scopegate keeps only a hash of it.'),
        h('label', { for: id }, label),
        input,
        ...more,
        status,
        h('div', { class: 'actions' }, copy, done),
      ],
      { escapable: false },
    );
    input.focus();
    input.select();
  });
}

/** A confirmation; resolves true when confirmed. */
export function confirmDialog(title: string, message: string, confirmLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h(
      'button',
      {
        type: 'button',
        class: danger ? 'danger' : '',
        onclick: () => {
          answer = true;
          closeDialog();
        },
      },
      confirmLabel,
    );
    const no = h('button', { type: 'button', class: 'secondary', onclick: () => closeDialog() }, 'Cancel');
    const d = openDialog(title, [h('p', {}, message), h('div', { class: 'actions' }, yes, no)]);
    const onClose = d.onclose;
    d.onclose = (e) => {
      onClose?.call(d, e);
      resolve(answer);
    };
    no.focus();
  });
}
