import { call, currentSession, mayWrite, problem } from './api.js';
import { formatTime, h, tableWrap, fill } from './dom.js';
import { clientTitle, displayStatus, lastUse, STATUS_TEXT, type Client, type Credential } from './model.js';

/** The client list: title, organizations, status (active, expiring within 14 days, expired, revoked), last use. */
export async function renderClientList(main: HTMLElement): Promise<void> {
  const heading = h('h1', { tabindex: '-1' }, 'Clients');
  fill(main, heading, h('p', { role: 'status' }, 'Loading…'));
  const reply = await call<{ clients: Client[] }>('GET', '/admin/clients');
  if (!reply.ok) {
    fill(main, heading, h('p', { class: 'error', role: 'alert' }, problem(reply)));
    return;
  }
  const clients = reply.body.clients;
  // Secrets of store clients: their expiry (status "expiring") and their last use.
  const secrets = await Promise.all(
    clients.map(async (c) => {
      if (c.source !== 'store') return undefined;
      const r = await call<{ secrets: Credential[] }>('GET', `/admin/clients/${encodeURIComponent(c.id)}/secrets`);
      const k = await call<{ api_keys: Credential[] }>('GET', `/admin/clients/${encodeURIComponent(c.id)}/api-keys`);
      return { secrets: r.ok ? r.body.secrets : [], keys: k.ok ? k.body.api_keys : [] };
    }),
  );
  const now = Date.now();
  const rows = clients.map((c, i) => {
    const status = displayStatus(c, secrets[i]?.secrets, now);
    const used = secrets[i] ? lastUse([...secrets[i]!.secrets, ...secrets[i]!.keys]) : null;
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `#/clients/${encodeURIComponent(c.id)}` }, clientTitle(c))),
      h('td', { 'data-label': 'Client id' }, h('code', {}, c.id)),
      h('td', { 'data-label': 'Organizations' }, c.organizations.length ? c.organizations.join(', ') : '—'),
      h('td', { 'data-label': 'Status', class: `status-${status}` }, STATUS_TEXT[status] ?? status),
      h(
        'td',
        { 'data-label': 'Last use' },
        c.source === 'file' ? 'not recorded (gateway.yaml)' : used ? formatTime(used) : 'never',
      ),
    );
  });
  const table = h(
    'table',
    { class: 'cards' },
    h('caption', {}, `${clients.length} client${clients.length === 1 ? '' : 's'}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Title', 'Client id', 'Organizations', 'Status', 'Last use'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, rows),
  );
  const session = currentSession();
  fill(
    main,
    heading,
    session?.admin.role === 'org_admin'
      ? h('p', { class: 'hint' }, `Clients of your organizations: ${(session.admin.organizations ?? []).join(', ')}`)
      : null,
    mayWrite()
      ? h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => (location.hash = '#/clients/new') }, 'New client'),
        )
      : null,
    clients.length === 0 ? h('p', {}, 'No clients yet.') : tableWrap('Clients', table),
  );
}
