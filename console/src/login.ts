import { call, setSession, type Session } from './api.js';
import { clearErrors, field, generalError, h, showError, fill } from './dom.js';

/** Sign in with an admin token; the gateway answers with an HttpOnly session cookie and the page's CSRF token. */
export function renderLogin(main: HTMLElement, onSignedIn: () => void, notice?: string): void {
  const heading = h('h1', { tabindex: '-1' }, 'Sign in');
  const token = field(
    'Admin token',
    'token',
    { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' },
    'An operator, organization admin or viewer token from admin.tokens.',
  );
  const form = h(
    'form',
    { novalidate: true },
    token.wrap,
    generalError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      clearErrors(form);
      const value = token.input.value.trim();
      if (!value) return showError(form, 'token', 'Enter your admin token.');
      if (!/^[!-~]+$/.test(value)) return showError(form, 'token', 'An admin token has no spaces or accents.');
      const reply = await call<Session>('POST', '/console/session', undefined, { Authorization: `Bearer ${value}` });
      token.input.value = '';
      if (!reply.ok) {
        const msg =
          reply.status === 429
            ? 'Too many failed sign-ins from this address; wait and try again.'
            : reply.status === 401
              ? 'This admin token is not valid (wrong or expired).'
              : (reply.body.error_description ?? `sign-in failed (HTTP ${reply.status})`);
        return showError(form, 'token', msg);
      }
      setSession(reply.body);
      onSignedIn();
    })();
  });
  fill(main, heading, notice ? h('p', { class: 'notice', role: 'status' }, notice) : null, form);
  token.input.focus();
}
