import { call, problem } from './api.js';
import { field, formatTime, generalError, h, showError, tableWrap, fill } from './dom.js';

interface AuditRecord {
  seq: number;
  at: string;
  actor: string | null;
  address: string | null;
  action: string;
  target: { client?: string; organizations?: string[]; secret?: string; api_key?: string };
  changes: Record<string, { before: unknown; after: unknown }>;
}

const FILTERS = ['client', 'organization', 'actor', 'since', 'until'] as const;

/** The audit trail with filters (client, organization, actor, from/to date); paged by the API's cursor. */
export async function renderAudit(main: HTMLElement, query: URLSearchParams): Promise<void> {
  const heading = h('h1', { tabindex: '-1' }, 'Audit');
  const inputs = {
    client: field('Client', 'client', { value: query.get('client') ?? '' }),
    organization: field('Organization', 'organization', { value: query.get('organization') ?? '' }),
    actor: field('Actor', 'actor', { value: query.get('actor') ?? '' }, 'Admin token id'),
    since: field('From date', 'since', { type: 'date', value: query.get('since') ?? '' }),
    until: field('To date', 'until', { type: 'date', value: query.get('until') ?? '' }),
  };
  const form = h(
    'form',
    { role: 'search', 'aria-label': 'Audit filters', novalidate: true },
    h('div', { class: 'filters' }, ...Object.values(inputs).map((f) => f.wrap)),
    generalError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of FILTERS) if (inputs[k].input.value.trim()) q.set(k, inputs[k].input.value.trim());
    location.hash = `#/audit${q.size ? `?${q}` : ''}`;
  });
  const results = h('div', {}, h('p', { role: 'status' }, 'Loading…'));
  fill(main, heading, form, results);

  const api = new URLSearchParams();
  for (const k of ['client', 'organization', 'actor'] as const) if (query.get(k)) api.set(k, query.get(k)!);
  // A date filter covers the whole day (UTC): from its first to its last millisecond.
  if (query.get('since')) api.set('since', `${query.get('since')}T00:00:00Z`);
  if (query.get('until')) api.set('until', `${query.get('until')}T23:59:59.999Z`);
  if (query.get('cursor')) api.set('cursor', query.get('cursor')!);
  const reply = await call<{ records: AuditRecord[]; next: number | null }>('GET', `/admin/audit?${api}`);
  if (!reply.ok) {
    const f = reply.body.field === 'since' || reply.body.field === 'until' ? reply.body.field : undefined;
    fill(results);
    showError(form, f, problem(reply));
    return;
  }
  const { records, next } = reply.body;
  const table = h(
    'table',
    { class: 'cards' },
    h('caption', {}, `${records.length} record${records.length === 1 ? '' : 's'}, oldest first`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['#', 'Time', 'Actor', 'Action', 'Client', 'Organizations', 'Changed'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      records.map((r) =>
        h(
          'tr',
          {},
          h('td', { 'data-label': '#' }, String(r.seq)),
          h('td', { 'data-label': 'Time' }, formatTime(r.at)),
          h('td', { 'data-label': 'Actor' }, r.actor ?? `(failed sign-in from ${r.address ?? 'unknown'})`),
          h('td', { 'data-label': 'Action' }, r.action),
          h('td', { 'data-label': 'Client' }, r.target.client ?? '—'),
          h('td', { 'data-label': 'Organizations' }, (r.target.organizations ?? []).join(', ') || '—'),
          h('td', { 'data-label': 'Changed' }, Object.keys(r.changes).join(', ') || '—'),
        ),
      ),
    ),
  );
  const more = new URLSearchParams(query);
  if (next !== null) more.set('cursor', String(next));
  fill(
    results,
    records.length === 0 ? h('p', {}, 'No records match.') : tableWrap('Audit records', table),
    next !== null
      ? h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => (location.hash = `#/audit?${more}`) }, 'Next page'),
        )
      : null,
  );
}
