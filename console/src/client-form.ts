import { call, currentSession, problem } from './api.js';
import { showOnce } from './dialogs.js';
import { clearErrors, field, generalError, h, showError, tableWrap, fill } from './dom.js';
import { clientTitle, type Client, type Endpoint } from './model.js';

const covered = (scopes: string[] | null, granted: Set<string>) =>
  scopes !== null && scopes.length > 0 && scopes.every((s) => granted.has(s));

/** One checkbox of the grid: `read PATH` / `write PATH`, disabled with the reason shown where it cannot be granted. */
function box(side: 'read' | 'write', ep: Endpoint, granted: Set<string>, boxes: Map<HTMLInputElement, string[]>) {
  const scopes = ep[side];
  const grantable = side === 'read' ? ep.read_grantable : ep.write_grantable;
  const id = `grid-${side}-${ep.path}`;
  const reason =
    scopes === null
      ? 'this endpoint has no ' + (side === 'read' ? 'read (GET)' : 'write (POST, PUT, PATCH, DELETE)') + ' methods'
      : !grantable
        ? `not licensed to your organizations (${scopes.join(' ')})`
        : undefined;
  const input = h('input', {
    type: 'checkbox',
    id,
    disabled: reason !== undefined,
    checked: covered(scopes, granted),
    'aria-describedby': reason ? `${id}-why` : `${id}-scopes`,
  });
  if (scopes && reason === undefined) boxes.set(input, scopes);
  return h(
    'td',
    {},
    input,
    ' ',
    h('label', { for: id }, `${side} ${ep.path}`),
    reason
      ? h('span', { class: 'reason', id: `${id}-why` }, reason)
      : h('span', { class: 'reason', id: `${id}-scopes` }, `scope: ${scopes!.join(' ')}`),
  );
}

const splitList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** "New client" and "Edit": title, provider URL, organizations, the read/write grid of the catalogue. */
export async function renderClientForm(main: HTMLElement, id?: string): Promise<void> {
  const heading = h('h1', { tabindex: '-1' }, id ? 'Edit client' : 'New client');
  fill(main, heading, h('p', { role: 'status' }, 'Loading…'));
  const catalog = await call<{ endpoints: Endpoint[] }>('GET', '/admin/catalog');
  let client: Client | undefined;
  let etag: string | null = null;
  if (id) {
    const r = await call<Client>('GET', `/admin/clients/${encodeURIComponent(id)}`);
    if (!r.ok) {
      fill(main, heading, h('p', { class: 'error', role: 'alert' }, problem(r)));
      return;
    }
    client = r.body;
    etag = r.etag;
    heading.textContent = `Edit ${clientTitle(client)}`;
  }
  if (!catalog.ok) {
    fill(main, heading, h('p', { class: 'error', role: 'alert' }, problem(catalog)));
    return;
  }
  const session = currentSession()!;
  const granted = new Set(client?.scopes ?? []);
  const title = field('Title', 'name', { value: client?.name ?? '', required: true, autocomplete: 'off' });
  const url = field(
    'Provider URL',
    'provider_url',
    { type: 'url', value: client?.provider_url ?? '', placeholder: 'https://partner.example' },
    "The partner's system, for your records.",
  );
  const contact = field('Contact', 'contact', { type: 'email', value: client?.contact ?? '', autocomplete: 'off' });
  const orgDefault = client ? client.organizations : (session.admin.organizations ?? []);
  const orgs = field(
    'Organizations',
    'organizations',
    { value: orgDefault.join(', ') },
    session.admin.role === 'org_admin'
      ? `Yours: ${(session.admin.organizations ?? []).join(', ')}. Separate several with commas.`
      : 'Organization ids, separated by commas; leave empty for none.',
  );
  const refreshId = 'f-refresh';
  const refresh = h('input', { type: 'checkbox', id: refreshId, checked: client?.refresh_tokens ?? false });

  const boxes = new Map<HTMLInputElement, string[]>();
  const rows = catalog.body.endpoints.map((ep) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('code', {}, ep.path)),
      box('read', ep, granted, boxes),
      box('write', ep, granted, boxes),
    ),
  );
  const grid = h(
    'table',
    { class: 'grid' },
    h('caption', { class: 'visually-hidden' }, 'Access per endpoint'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Endpoint'),
        h('th', { scope: 'col' }, 'Read'),
        h('th', { scope: 'col' }, 'Write'),
      ),
    ),
    h('tbody', {}, rows),
  );
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': heading.id || undefined },
    title.wrap,
    url.wrap,
    contact.wrap,
    orgs.wrap,
    h('div', { class: 'field check' }, refresh, ' ', h('label', { for: refreshId }, 'Allow refresh tokens')),
    h(
      'fieldset',
      { 'data-field': 'scopes' },
      h('legend', {}, 'Endpoints'),
      catalog.body.endpoints.length === 0 ? h('p', {}, 'No endpoint you may grant.') : tableWrap('Endpoints', grid),
      h('p', { class: 'error', 'data-error-for': 'scopes', tabindex: '-1' }),
    ),
    generalError(),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, id ? 'Save changes' : 'Create'),
      h('button', { type: 'button', class: 'secondary', onclick: () => history.back() }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });

  async function submit(): Promise<void> {
    clearErrors(form);
    // Scopes: the checked boxes' scopes, plus any scope of the client that no grantable box stands for.
    const offered = new Set([...boxes.values()].flat());
    const scopes = new Set([...granted].filter((s) => !offered.has(s)));
    for (const [input, s] of boxes) if (input.checked) s.forEach((x) => scopes.add(x));
    const body: Record<string, unknown> = {
      name: title.input.value.trim(),
      organizations: splitList(orgs.input.value),
      scopes: [...scopes],
      refresh_tokens: refresh.checked,
    };
    const u = url.input.value.trim();
    const c = contact.input.value.trim();
    if (id) {
      body.provider_url = u || null;
      body.contact = c || null;
    } else {
      if (u) body.provider_url = u;
      if (c) body.contact = c;
    }
    if (!body.name) return showError(form, 'name', 'Enter a title.');
    const reply = id
      ? await call<Client>('PATCH', `/admin/clients/${encodeURIComponent(id)}`, body, etag ? { 'If-Match': etag } : {})
      : await call<{ client: Client; secret: { value: string; expires_at: string } }>('POST', '/admin/clients', body);
    if (!reply.ok) {
      const msg =
        reply.status === 412 ? 'Someone changed this client meanwhile; reload the page and try again.' : problem(reply);
      return showError(form, reply.body.field, msg);
    }
    if (id) {
      location.hash = `#/clients/${encodeURIComponent(id)}`;
      return;
    }
    const created = reply.body as { client: Client; secret: { value: string; expires_at: string } };
    await showOnce(
      `Secret of ${clientTitle(created.client)}`,
      `Client id: ${created.client.id}. Hand the client id and this secret to the partner.`,
      'Client secret',
      created.secret.value,
      [h('p', { class: 'hint' }, `Expires ${new Date(created.secret.expires_at).toUTCString()}.`)],
    );
    location.hash = `#/clients/${encodeURIComponent(created.client.id)}`;
  }

  fill(main, heading, form);
}
