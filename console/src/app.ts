import { call, currentSession, setSession, whenSessionEnds, type Session } from './api.js';
import { renderAudit } from './audit-view.js';
import { closeDialog } from './dialogs.js';
import { renderClientDetail } from './client-detail.js';
import { renderClientForm } from './client-form.js';
import { renderClientList } from './client-list.js';
import { renderLogin } from './login.js';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;

const ROLE_TEXT = { operator: 'operator', org_admin: 'organization admin', viewer: 'viewer (read only)' };

function showNav(session: Session | undefined): void {
  nav.hidden = !session;
  who.textContent = session
    ? `Signed in as ${session.admin.id}, ${ROLE_TEXT[session.admin.role]}` +
      (session.admin.organizations ? ` of ${session.admin.organizations.join(', ')}` : '')
    : '';
  for (const a of nav.querySelectorAll('a')) {
    const current = location.hash.startsWith(a.getAttribute('href')!);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Hash routes: #/clients, #/clients/new, #/clients/ID, #/clients/ID/edit, #/audit?filters. */
async function route(): Promise<void> {
  const session = currentSession();
  if (!session) return;
  closeDialog();
  const hash = location.hash || '#/clients';
  showNav(session);
  const [path, query = ''] = hash.slice(1).split('?');
  const parts = path!.split('/').filter(Boolean).map(decodeURIComponent);
  let title = 'Clients';
  if (parts[0] === 'audit') {
    title = 'Audit';
    await renderAudit(main, new URLSearchParams(query));
  } else if (parts[0] === 'clients' && parts[1] === 'new') {
    title = 'New client';
    await renderClientForm(main);
  } else if (parts[0] === 'clients' && parts[1] && parts[2] === 'edit') {
    title = 'Edit client';
    await renderClientForm(main, parts[1]);
  } else if (parts[0] === 'clients' && parts[1]) {
    title = 'Client';
    await renderClientDetail(main, parts[1]);
  } else await renderClientList(main);
  document.title = `${title} · scopegate console`;
  if (!currentSession()) return;
  main.querySelector<HTMLElement>('h1')?.focus();
}

function signedOut(notice?: string): void {
  setSession(undefined);
  showNav(undefined);
  closeDialog();
  document.title = 'Sign in · scopegate console';
  renderLogin(main, () => void route(), notice);
}

whenSessionEnds(() => signedOut('Your session has ended; sign in again.'));

document.getElementById('sign-out')!.addEventListener('click', () => {
  void call('DELETE', '/console/session').then(() => signedOut('You are signed out.'));
});

window.addEventListener('hashchange', () => void route());

void (async () => {
  const reply = await call<Session>('GET', '/console/session');
  if (reply.ok) {
    setSession(reply.body);
    await route();
  } else signedOut();
})();
