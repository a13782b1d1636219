import { call, mayWrite, problem } from './api.js';
import { closeDialog, confirmDialog, openDialog, showOnce } from './dialogs.js';
import { clearErrors, field, formatTime, generalError, h, showError, tableWrap, fill } from './dom.js';
import { clientTitle, displayStatus, STATUS_TEXT, type Client, type Credential } from './model.js';

const enc = encodeURIComponent;

function credentialTable(caption: string, creds: Credential[]): HTMLElement {
  if (creds.length === 0) return h('p', {}, `${caption}: none.`);
  const table = h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h('tr', {}, ...['Id', 'Created', 'Expires', 'Status', 'Last used'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    h(
      'tbody',
      {},
      creds.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, c.id)),
          h('td', {}, formatTime(c.created_at)),
          h('td', {}, formatTime(c.expires_at)),
          h('td', { class: `status-${c.status}` }, c.status === 'active' ? 'Active' : 'Ended'),
          h('td', {}, c.last_used_at ? formatTime(c.last_used_at) : 'never'),
        ),
      ),
    ),
  );
  return tableWrap(caption, table);
}

/** One client: its facts, secrets and API keys, and (for writers) rotate, keys, test refresh token, revoke/restore. */
export async function renderClientDetail(main: HTMLElement, id: string, notice = ''): Promise<void> {
  const heading = h('h1', { tabindex: '-1' }, 'Client');
  fill(main, heading, h('p', { role: 'status' }, 'Loading…'));
  const reply = await call<Client>('GET', `/admin/clients/${enc(id)}`);
  if (!reply.ok) {
    fill(main, heading, h('p', { class: 'error', role: 'alert' }, problem(reply)));
    return;
  }
  const client = reply.body;
  const name = clientTitle(client);
  heading.textContent = name;
  const store = client.source === 'store';
  const secrets = store ? await call<{ secrets: Credential[] }>('GET', `/admin/clients/${enc(id)}/secrets`) : undefined;
  const keys = store ? await call<{ api_keys: Credential[] }>('GET', `/admin/clients/${enc(id)}/api-keys`) : undefined;
  const secretList = secrets?.ok ? secrets.body.secrets : [];
  const status = displayStatus(client, secretList, Date.now());
  const reload = (text = '') => renderClientDetail(main, id, text);
  const message = h('p', { role: 'status', class: 'hint' }, notice);

  const facts = h(
    'dl',
    { class: 'facts' },
    ...(
      [
        ['Client id', h('code', {}, client.id)],
        ['Status', h('span', { class: `status-${status}` }, STATUS_TEXT[status] ?? status)],
        ['Provider URL', client.provider_url ?? '—'],
        ['Contact', client.contact ?? '—'],
        ['Organizations', client.organizations.join(', ') || '—'],
        ['Scopes', client.scopes.join(' ') || '—'],
        ['Refresh tokens', client.refresh_tokens ? 'allowed' : 'not allowed'],
        ['Expires', client.expires_at ? formatTime(client.expires_at) : 'never'],
        ['Defined in', store ? 'the admin API' : 'gateway.yaml (read-only here)'],
      ] as const
    ).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );

  async function rotate(): Promise<void> {
    const ok = await confirmDialog(
      `Rotate the secret of ${name}?`,
      `A new secret is made for ${name} (${client.id}). The current secret keeps working until the rotation overlap ends, so the partner can switch without downtime.`,
      'Rotate',
    );
    if (!ok) return;
    const r = await call<{ secret: { id: string; value: string; expires_at: string } }>(
      'POST',
      `/admin/clients/${enc(id)}/secrets`,
      {},
    );
    if (!r.ok) return void (message.textContent = problem(r));
    const list = await call<{ secrets: Credential[] }>('GET', `/admin/clients/${enc(id)}/secrets`);
    const others = (list.ok ? list.body.secrets : []).filter((s) => s.id !== r.body.secret.id && s.status === 'active');
    await showOnce(`New secret of ${name}`, `Client id: ${client.id}.`, 'Client secret', r.body.secret.value, [
      h('p', { class: 'hint' }, `New secret ${r.body.secret.id} expires ${formatTime(r.body.secret.expires_at)}.`),
      ...others.map((s) =>
        h('p', { class: 'hint' }, `Previous secret ${s.id} keeps working until ${formatTime(s.expires_at)}.`),
      ),
    ]);
    await reload();
  }

  async function newKey(): Promise<void> {
    const r = await call<{ api_key: { id: string; value: string; expires_at: string } }>(
      'POST',
      `/admin/clients/${enc(id)}/api-keys`,
      {},
    );
    if (!r.ok) return void (message.textContent = problem(r));
    await showOnce(`API key of ${name}`, `Sent as the X-Api-Key header.`, 'API key', r.body.api_key.value, [
      h('p', { class: 'hint' }, `Expires ${formatTime(r.body.api_key.expires_at)}.`),
    ]);
    await reload();
  }

  function mint(): void {
    const scope = field('Scope', 'scope', { value: '' }, `Leave empty for all: ${client.scopes.join(' ')}`);
    const org = field(
      'Organization',
      'organization_id',
      { value: client.organizations.length === 1 ? client.organizations[0]! : '' },
      client.organizations.length > 1 ? `One of ${client.organizations.join(', ')}` : undefined,
    );
    const ttl = field('Valid for', 'expires_in', { value: '1h' }, 'At most 24h, e.g. 30m, 1h, 24h.');
    const form = h(
      'form',
      { novalidate: true },
      scope.wrap,
      org.wrap,
      ttl.wrap,
      generalError(),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, 'Mint'),
        h('button', { type: 'button', class: 'secondary', onclick: () => closeDialog() }, 'Cancel'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void (async () => {
        clearErrors(form);
        const body: Record<string, string> = { expires_in: ttl.input.value.trim() || '1h' };
        if (scope.input.value.trim()) body.scope = scope.input.value.trim();
        if (org.input.value.trim()) body.organization_id = org.input.value.trim();
        const r = await call<{ refresh_token: string; expires_in: number; scope: string }>(
          'POST',
          `/admin/clients/${enc(id)}/refresh-tokens`,
          body,
        );
        if (!r.ok) return showError(form, r.body.field, problem(r));
        await showOnce(
          `Test refresh token for ${name}`,
          `Scope: ${r.body.scope}.`,
          'Refresh token',
          r.body.refresh_token,
          [h('p', { class: 'hint' }, `Valid for ${Math.round(r.body.expires_in / 60)} minutes.`)],
        );
      })();
    });
    openDialog(`Mint a test refresh token for ${name}`, [form]);
    scope.input.focus();
  }

  async function revokeOrRestore(action: 'revoke' | 'restore'): Promise<void> {
    const ok = await confirmDialog(
      action === 'revoke' ? `Revoke ${name}?` : `Restore ${name}?`,
      action === 'revoke'
        ? `${name} (${client.id}) loses access at once: its tokens, refresh tokens, API keys and secrets stop working.`
        : `${name} (${client.id}) gets access again; tokens issued before the revocation stay invalid.`,
      action === 'revoke' ? `Revoke ${name}` : `Restore ${name}`,
      action === 'revoke',
    );
    if (!ok) return;
    const r = await call('POST', `/admin/clients/${enc(id)}/${action}`, {});
    if (!r.ok) return void (message.textContent = problem(r));
    await reload(action === 'revoke' ? `${name} is revoked.` : `${name} is restored.`);
  }

  const writer = mayWrite();
  const actions = writer
    ? h(
        'div',
        { class: 'actions' },
        store
          ? h('button', { type: 'button', onclick: () => (location.hash = `#/clients/${enc(id)}/edit`) }, 'Edit')
          : null,
        store ? h('button', { type: 'button', onclick: () => void rotate() }, 'Rotate secret') : null,
        store ? h('button', { type: 'button', onclick: () => void newKey() }, 'New API key') : null,
        h('button', { type: 'button', onclick: () => mint() }, 'Mint refresh token'),
        client.status === 'revoked'
          ? h('button', { type: 'button', onclick: () => void revokeOrRestore('restore') }, 'Restore')
          : h('button', { type: 'button', class: 'danger', onclick: () => void revokeOrRestore('revoke') }, 'Revoke'),
      )
    : h('p', { class: 'notice' }, 'Read only: a viewer changes nothing.');

  fill(
    main,
    h('p', {}, h('a', { href: '#/clients' }, '← All clients')),
    heading,
    actions,
    message,
    facts,
    store ? h('h2', {}, 'Secrets') : null,
    secrets
      ? secrets.ok
        ? credentialTable('Secrets', secretList)
        : h('p', { class: 'error' }, problem(secrets))
      : null,
    store ? h('h2', {}, 'API keys') : null,
    keys
      ? keys.ok
        ? credentialTable('API keys', keys.body.api_keys)
        : h('p', { class: 'error' }, problem(keys))
      : null,
    h('p', {}, h('a', { href: `#/audit?client=${enc(id)}` }, `Audit trail of ${name}`)),
  );
}
