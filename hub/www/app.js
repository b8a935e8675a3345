// SPDX-License-Identifier: Apache-2.0
// The fedns status dashboard: reads the hub's REST API with the user's bearer token (kept in
// sessionStorage, this tab only) or, for certificate holders, with every request signed by
// their P-256 key (httpsig.js; the key lives only in this page's memory, so a reload asks
// for it again), draws the clusters x zones matrix and the zone and cluster drill-downs,
// and refreshes every 2 s without reloading. Every value from the API reaches the page
// through textContent, never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'fedns.token';
  const POLL_MS = 2000;
  const PAGE = 1000;
  // best to worst, as the hub orders a cell's state
  const STATES = ['in_sync', 'unknown', 'pending', 'lagging', 'diverged', 'unreachable'];
  const STATE_LABEL = {
    in_sync: 'in sync', unknown: 'unknown', pending: 'pending', lagging: 'lagging',
    diverged: 'diverged', unreachable: 'unreachable',
  };

  let pollTimer = null;
  let polls = 0;
  let lastOk = 0;
  let busy = false;
  let whoami = null;
  let keyCred = null; // {key: non-extractable CryptoKey, keyid} after signing in with a key
  const seenTenants = new Set();
  const seenClusters = new Set();
  const changeNotes = new Map(); // change id -> {ok, text} after approve/reject
  const changeCache = new Map(); // committed change id -> shown change (immutable)
  const rendered = new Map(); // container id -> signature of what it shows

  const $ = (id) => document.getElementById(id);

  // h('a', {class: 'x', href: '#/', text: 'hi', data: {zone: 'z'}}, child...)
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'class') el.className = v;
      else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  // Replaces a container's content only when what it would show changed, so typing in a
  // comment box or reading a diff is not disturbed by the 2 s refresh.
  function renderIfChanged(id, data, build) {
    const sig = JSON.stringify(data);
    if (rendered.get(id) === sig) return;
    rendered.set(id, sig);
    $(id).replaceChildren(...[].concat(build()));
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function signedIn() {
    return keyCred !== null || sessionStorage.getItem(TOKEN_KEY) !== null;
  }

  async function api(method, path, body) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const opts = {
      method,
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    };
    // the exact bytes sent, since a signature covers their digest
    const bytes = body !== undefined ? new TextEncoder().encode(JSON.stringify(body)) : new Uint8Array(0);
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = bytes;
    }
    let res;
    try {
      if (keyCred) Object.assign(opts.headers, await FednsHttpSig.signRequest(keyCred, method, path, bytes));
      else if (token) opts.headers.Authorization = 'Bearer ' + token;
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, 'network', 'the hub did not answer (' + e.message + ')');
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      throw new ApiError(res.status, err.code || 'http_' + res.status,
        err.message || res.statusText || 'HTTP ' + res.status);
    }
    return data;
  }

  function qs(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) p.set(k, v);
    const s = p.toString();
    return s ? '?' + s : '';
  }

  // Every page of a status listing.
  async function statusAll(params) {
    let items = [];
    let after = null;
    for (let i = 0; i < 100; i++) {
      const page = await api('GET', '/api/v1/status' + qs({ ...params, limit: PAGE, after }));
      items = items.concat(page.items || []);
      if (!page.next) break;
      after = page.next;
    }
    return items;
  }

  // ---- time and formatting ----

  function ms(t) {
    if (t === null || t === undefined) return null;
    const v = typeof t === 'number' ? (t < 1e11 ? t * 1000 : t) : Date.parse(t);
    return Number.isFinite(v) ? v : null;
  }

  function age(t) {
    const v = ms(t);
    if (v === null) return '';
    let s = Math.max(0, Math.round((Date.now() - v) / 1000));
    if (s < 90) return s + 's';
    s = Math.round(s / 60);
    if (s < 90) return s + 'm';
    s = Math.round(s / 60);
    if (s < 48) return s + 'h';
    return Math.round(s / 24) + 'd';
  }

  function when(t) {
    const v = ms(t);
    if (v === null) return '—';
    return new Date(v).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') + ' (' + age(v) + ' ago)';
  }

  function shortDigest(d) {
    return d ? d.slice(0, 12) + '…' : '—';
  }

  function fmtLag(v) {
    if (v === null || v === undefined) return '—';
    return v < 1000 ? v + ' ms' : (v / 1000).toFixed(1) + ' s';
  }

  function stateBadge(state, extra) {
    return h('span', { class: 'cell-state st-' + (STATES.includes(state) ? state : 'unknown'), text: STATE_LABEL[state] || state || 'unknown', ...extra });
  }

  // The secondary that makes a row's state, and since when the row has been in it.
  function rowSince(row) {
    let since = null;
    for (const s of row.secondaries || []) {
      const st = s.state === 'in_sync' && s.serial !== row.hub_serial ? 'pending' : s.state;
      if (st === row.state) {
        const v = ms(s.state_since);
        if (v !== null && (since === null || v < since)) since = v;
      }
    }
    if (since === null && row.spoke) since = ms(row.spoke.acked_at);
    return since;
  }

  // ---- banner, login, navigation ----

  function banner(text) {
    const b = $('banner');
    b.textContent = text || '';
    b.hidden = !text;
  }

  function showOnly(id) {
    for (const s of ['login', 'view-matrix', 'view-zone', 'view-cluster']) $(s).hidden = s !== id;
    document.body.dataset.view = id.replace('view-', '');
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    keyCred = null;
    $('key-file').value = '';
    whoami = null;
    rendered.clear();
    changeNotes.clear();
    stopPolling();
    $('whoami').textContent = '';
    $('logout').hidden = true;
    $('live').textContent = '';
    banner('');
    $('login-error').textContent = message || '';
    showOnly('login');
    $('token').focus();
  }

  function signedInAs() {
    const roles = (whoami.roles || []).map((r) => r.role + '@' + r.tenant).join(', ');
    $('whoami').textContent = whoami.principal.name + (roles ? ' (' + roles + ')' : '') +
      (keyCred ? ' · key ' + keyCred.keyid.slice(0, 10) + '…' : '');
    $('whoami').title = keyCred ? 'requests signed with key ' + keyCred.keyid : 'bearer token';
    $('logout').hidden = false;
    $('login-error').textContent = '';
  }

  async function signIn(token) {
    keyCred = null;
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      whoami = await api('GET', '/api/v1/whoami');
    } catch (e) {
      signOut(e.status === 401 ? 'The hub refused this token.' : 'Sign-in failed: ' + e.message);
      return false;
    }
    signedInAs();
    return true;
  }

  // A key file chosen on the page: imported, then proven by a signed whoami.
  async function signInWithKey(file) {
    let cred;
    $('login-error').textContent = 'reading the key…';
    try {
      cred = await FednsHttpSig.loadKeyFile(file);
    } catch (e) {
      signOut(e instanceof FednsHttpSig.KeyError ? 'Cannot use this file: ' + e.message + '.'
        : 'Cannot use this file: ' + e.message);
      return false;
    }
    sessionStorage.removeItem(TOKEN_KEY);
    keyCred = cred;
    try {
      try {
        whoami = await api('GET', '/api/v1/whoami');
      } catch (e) {
        // this computer's clock is off: sign with the hub's time from now on
        if (e.status !== 401 || !FednsHttpSig.adoptHubTime(cred, e.message)) throw e;
        whoami = await api('GET', '/api/v1/whoami');
      }
    } catch (e) {
      let msg = 'Sign-in failed: ' + e.message;
      if (e.status === 401 && /unknown keyid/.test(e.message)) {
        msg = 'The hub does not know this key (key id ' + cred.keyid + '): an administrator ' +
          'registers its public key with fednsctl principal key-add NAME --pem PUBLIC.pem.';
      } else if (e.status === 401) {
        msg = 'The hub refused this key (key id ' + cred.keyid + '): ' + e.message + '.';
      }
      signOut(msg);
      return false;
    }
    signedInAs();
    return true;
  }

  function route() {
    const m = location.hash.match(/^#\/(zone|cluster)\/(.+)$/);
    if (m) return { view: m[1], name: decodeURIComponent(m[2]) };
    return { view: 'matrix' };
  }

  function zoneHref(zone) {
    return '#/zone/' + encodeURIComponent(zone);
  }

  function clusterHref(c) {
    return '#/cluster/' + encodeURIComponent(c);
  }

  // ---- the matrix ----

  function filters() {
    return {
      tenant: $('f-tenant').value,
      zone: $('f-zone').value.trim().toLowerCase(),
      cluster: $('f-cluster').value,
      state: $('f-state').value,
    };
  }

  function addOptions(sel, values) {
    const have = new Set([...sel.options].map((o) => o.value));
    for (const v of [...values].sort()) {
      if (!have.has(v)) sel.append(h('option', { value: v, text: v }));
    }
  }

  async function refreshMatrix() {
    const f = filters();
    const [items, clusters, proposed] = await Promise.all([
      statusAll({ tenant: f.tenant, cluster: f.cluster, state: f.state }),
      api('GET', '/api/v1/clusters').then((r) => r.items || []),
      api('GET', '/api/v1/changes' + qs({ state: 'proposed', limit: PAGE })).then((r) => r.changes || []),
    ]);
    // changes waiting for approval, per zone: the matrix shows them on the zone's row
    const awaiting = {};
    for (const c of proposed) awaiting[c.zone] = (awaiting[c.zone] || 0) + 1;
    for (const r of items) {
      seenTenants.add(r.tenant);
      seenClusters.add(r.cluster);
    }
    for (const c of clusters) seenClusters.add(c.name);
    addOptions($('f-tenant'), seenTenants);
    addOptions($('f-cluster'), seenClusters);

    const rows = items.filter((r) => !f.zone || r.zone.toLowerCase().includes(f.zone));
    const colSet = new Set(rows.map((r) => r.cluster));
    if (!f.cluster && !f.state) for (const c of clusters) colSet.add(c.name);
    const cols = [...colSet].sort();
    const byZone = new Map();
    for (const r of rows) {
      if (!byZone.has(r.zone)) byZone.set(r.zone, { tenant: r.tenant, hub_serial: r.hub_serial, cells: {} });
      byZone.get(r.zone).cells[r.cluster] = r;
    }
    const zones = [...byZone.keys()].sort();
    const counts = {};
    for (const r of rows) counts[r.state] = (counts[r.state] || 0) + 1;
    const connected = new Map(clusters.map((c) => [c.name, c.connected]));

    const tick = Math.floor(Date.now() / 10000); // ages shown move every 10 s at most
    renderIfChanged('summary', [zones.length, cols.length, counts], () =>
      zones.length + ' zones × ' + cols.length + ' clusters · ' +
      STATES.filter((s) => counts[s]).map((s) => counts[s] + ' ' + STATE_LABEL[s]).join(', '));
    renderIfChanged('matrix', [rows, cols, [...connected], awaiting, tick], () => {
      if (zones.length === 0) return h('p', { class: 'muted', text: 'No zone matches.' });
      const head = h('tr', {}, h('th', { text: 'Zone' }), cols.map((c) =>
        h('th', {}, h('a', { href: clusterHref(c), text: c, data: { cluster: c } }),
          connected.has(c) && !connected.get(c) ? h('span', { class: 'muted', text: ' (offline)' }) : null)));
      const body = zones.map((z) => {
        const zr = byZone.get(z);
        const waiting = awaiting[z] || 0;
        return h('tr', { data: { zone: z, awaiting: waiting } },
          h('td', { class: 'zone' }, h('a', { href: zoneHref(z), text: z }),
            h('span', { class: 'sub', text: zr.tenant + ' · serial ' + zr.hub_serial },
              waiting ? h('a', { class: 'awaiting', href: zoneHref(z), text: waiting + ' awaiting approval' }) : null)),
          cols.map((c) => {
            const r = zr.cells[c];
            if (!r) return h('td', { class: 'none', text: '—', title: 'not placed on ' + c });
            const serial = r.spoke ? r.spoke.serial : null;
            const title = [
              z + ' on ' + c + ': ' + (STATE_LABEL[r.state] || r.state),
              'hub serial ' + r.hub_serial + ', spoke ' + (serial === null ? 'has not acknowledged' : 'at ' + serial),
              ...(r.secondaries || []).map((s) => s.name + ': ' + s.state + (s.serial !== null ? ' @' + s.serial : '') + (s.last_error ? ' — ' + s.last_error : '')),
            ].join('\n');
            return h('td', { class: 'cell' },
              h('a', {
                class: 'st-' + (STATES.includes(r.state) ? r.state : 'unknown'),
                href: zoneHref(z),
                title,
                data: { zone: z, cluster: c, state: r.state, serial: serial === null ? '' : serial },
              },
              h('span', { class: 'label', text: STATE_LABEL[r.state] || r.state }), ' ',
              h('span', { class: 'serial', text: serial === null ? '—' : String(serial) }),
              h('span', { class: 'age', text: age(rowSince(r)) })));
          }));
      });
      return h('table', { class: 'matrix' }, h('thead', {}, head), h('tbody', {}, body));
    });
  }

  // ---- zone drill-down ----

  async function changeShown(id, committed) {
    if (committed && changeCache.has(id)) return changeCache.get(id);
    const c = await api('GET', '/api/v1/changes/' + id);
    if (c.state !== 'proposed') changeCache.set(id, c);
    return c;
  }

  async function decide(id, action, comment) {
    const note = { ok: false, text: action === 'approve' ? 'approving…' : 'rejecting…' };
    changeNotes.set(id, note);
    rendered.delete('zone-pending');
    try {
      const body = comment ? { comment } : {};
      const cred = keyCred;
      const signed = cred !== null && action === 'approve';
      if (signed) {
        // sign the diff as the hub has it now, as fednsctl change approve --sign-key does
        body.change_signature = await FednsHttpSig.signApproval(cred, await api('GET', '/api/v1/changes/' + id));
      }
      const r = await api('POST', '/api/v1/changes/' + id + '/' + action, body);
      changeNotes.set(id, {
        ok: true,
        text: (action === 'approve' ? (r.committed ? 'approved and committed' : 'approval recorded') : 'rejected') +
          (signed ? ' (signed with key ' + cred.keyid.slice(0, 10) + '…)' : ''),
      });
    } catch (e) {
      changeNotes.set(id, { ok: false, text: 'refused: ' + (e.status ? e.status + ' ' : '') + (e.code || 'error') + ': ' + e.message });
    }
    rendered.delete('zone-pending');
    refresh();
  }

  function diffBlock(lines) {
    return h('pre', { class: 'diff' }, (lines || []).map((l) =>
      h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '', text: l + '\n' })));
  }

  function decisionsText(c) {
    const ds = c.decisions || [];
    if (ds.length === 0) return 'no decision yet';
    return ds.map((d) => (d.decision === 'approve' ? 'approved by ' : 'rejected by ') + (d.principal || '?') +
      ' ' + age(d.at) + ' ago' + (d.comment ? ' (“' + d.comment + '”)' : '')).join('; ');
  }

  // serial a reached b or later (RFC 1982)
  function serialGte(a, b) {
    if (a === null || a === undefined) return false;
    const d = (a - b) >>> 0;
    return d === 0 || d < 0x80000000;
  }

  async function refreshZone(name) {
    const enc = encodeURIComponent(name);
    const [zone, versions, status, pendingList, historyList] = await Promise.all([
      api('GET', '/api/v1/zones/' + enc),
      api('GET', '/api/v1/zones/' + enc + '/versions').catch(() => null),
      api('GET', '/api/v1/zones/' + enc + '/status').then((r) => r.items || []),
      api('GET', '/api/v1/changes' + qs({ zone: name, state: 'proposed', limit: 50 })).then((r) => r.changes || []),
      api('GET', '/api/v1/changes' + qs({ zone: name, limit: 20 })).then((r) => r.changes || []),
    ]);
    const pending = await Promise.all(pendingList.map((c) => changeShown(c.id, false)));
    const committed = historyList.filter((c) => c.state === 'committed').slice(0, 10);
    const history = await Promise.all(committed.map((c) => changeShown(c.id, true)));
    const worst = status.reduce((w, r) => (STATES.indexOf(r.state) > STATES.indexOf(w) ? r.state : w), 'in_sync');

    $('zone-title').textContent = zone.name;
    const zs = $('zone-state');
    zs.className = 'cell-state st-' + (status.length ? worst : 'unknown');
    zs.textContent = status.length ? STATE_LABEL[worst] : 'not placed';
    document.body.dataset.zoneState = status.length ? worst : '';

    renderIfChanged('zone-facts', [zone, versions], () => [
      h('dt', { text: 'Tenant' }), h('dd', { text: zone.tenant }),
      h('dt', { text: 'Serial' }), h('dd', { class: 'mono', text: zone.serial }),
      h('dt', { text: zone.digest && zone.digest.length === 96 ? 'Digest (ZONEMD SHA-384)' : 'Digest (tree)' }),
      h('dd', { class: 'mono', text: zone.digest || '—' }),
      h('dt', { text: 'Approvals required' }), h('dd', { text: zone.approvals_required }),
      h('dt', { text: 'Placement' }), h('dd', {}, (zone.placement || []).length
        ? zone.placement.map((c, i) => [i ? ', ' : '', h('a', { href: clusterHref(c), text: c })]) : 'none'),
      h('dt', { text: 'Versions kept' }), h('dd', { class: 'mono', text: versions ? versions.versions.join(' ') : '—' }),
    ]);

    const tick = Math.floor(Date.now() / 10000);
    renderIfChanged('zone-status', [status, tick], () => {
      if (status.length === 0) return h('p', { class: 'muted', text: 'Placed on no cluster.' });
      return status.map((r) => h('div', { class: 'card', data: { cluster: r.cluster, state: r.state } },
        h('h3', {}, h('a', { href: clusterHref(r.cluster), text: r.cluster }), ' ', stateBadge(r.state),
          h('span', { class: 'muted', text: '  spoke ' + (r.spoke ? 'at ' + r.spoke.serial + ' (' + (r.spoke.status || '—') +
            (r.spoke.reason ? ': ' + r.spoke.reason : '') + ', acked ' + age(r.spoke.acked_at) + ' ago' +
            (r.spoke.applied_ms !== null && r.spoke.applied_ms !== undefined ? ', applied ' + fmtLag(r.spoke.applied_ms) + ' after commit' : '') + ')'
            : 'has not acknowledged serial ' + r.hub_serial) +
            (r.pending_changes ? ' · ' + r.pending_changes + ' version(s) behind' : '') })),
        (r.secondaries || []).length === 0 ? h('p', { class: 'muted', text: 'No secondary reported yet.' }) :
          h('table', {}, h('thead', {}, h('tr', {}, ['Secondary', 'Address', 'State', 'Serial', 'Digest', 'Lag', 'Last proven', 'Last error', 'Repairs', 'Confirmed']
            .map((t) => h('th', { text: t })))),
          h('tbody', {}, r.secondaries.map((s) => h('tr', { data: { secondary: s.name, state: s.state } },
            h('td', { text: s.name }), h('td', { class: 'mono', text: s.address || '—' }),
            h('td', {}, stateBadge(s.state), h('span', { class: 'muted', text: ' ' + age(s.state_since) })),
            h('td', { class: 'mono', text: s.serial === null ? '—' : s.serial }),
            h('td', { class: 'mono', title: s.digest || '', text: shortDigest(s.digest) }),
            h('td', { text: fmtLag(s.lag_ms) }),
            h('td', { text: s.last_proven ? age(s.last_proven) + ' ago' : 'never' }),
            h('td', { class: s.last_error ? 'error' : 'muted', text: s.last_error || '—' }),
            h('td', { text: s.repairs || 0 }),
            h('td', { text: s.confirmed_ms === null || s.confirmed_ms === undefined ? '—' : fmtLag(s.confirmed_ms) + ' after commit' })))))));
    });

    const notes = pending.map((c) => changeNotes.get(c.id) || null);
    renderIfChanged('zone-pending', [pending, notes], () => {
      if (pending.length === 0) return h('p', { class: 'muted', text: 'No change is waiting for approval.' });
      return pending.map((c) => {
        const note = changeNotes.get(c.id);
        const comment = h('input', { type: 'text', placeholder: 'comment (optional)', 'aria-label': 'comment' });
        return h('div', { class: 'card change', data: { changeId: c.id } },
          h('h3', { text: 'Change ' + c.id + ' · ' + c.reason + (c.ticket ? ' [' + c.ticket + ']' : '') }),
          h('div', { class: 'muted', text: 'proposed by ' + (c.author || '?') + ' ' + age(c.created_at) + ' ago against serial ' +
            c.base_serial + ' · ' + c.approvals + ' of ' + zone.approvals_required + ' approval(s) · ' + decisionsText(c) }),
          c.delete_zone ? h('div', { class: 'error', text: 'This change deletes the zone.' }) : null,
          diffBlock(c.diff),
          h('div', { class: 'actions' }, comment,
            h('button', {
              type: 'button', data: { action: 'approve' }, onclick: () => decide(c.id, 'approve', comment.value),
              title: keyCred ? 'your approval carries your key\'s signature over this diff' : null,
            }, keyCred ? 'Approve and sign' : 'Approve'),
            h('button', { type: 'button', class: 'reject', data: { action: 'reject' }, onclick: () => decide(c.id, 'reject', comment.value) }, 'Reject'),
            note ? h('span', { class: note.ok ? 'change-ok' : 'change-error', role: 'status', text: note.text }) : null));
      });
    });

    renderIfChanged('zone-history', [history, status.map((r) => [r.cluster, r.spoke])], () => {
      if (history.length === 0) return h('p', { class: 'muted', text: 'No committed change yet.' });
      return h('table', {}, h('thead', {}, h('tr', {}, ['Serial', 'Change', 'Proposed by', 'Decisions', 'Committed', 'Confirmed on clusters']
        .map((t) => h('th', { text: t })))),
      h('tbody', {}, history.map((c) => h('tr', { data: { changeId: c.id } },
        h('td', { class: 'mono', text: c.serial }),
        h('td', { text: c.id + ' · ' + c.reason }),
        h('td', { text: c.author || '?' }),
        h('td', { text: decisionsText(c) }),
        h('td', { text: when(c.decided_at) }),
        h('td', {}, status.map((r) => {
          const ok = r.spoke && serialGte(r.spoke.serial, c.serial);
          const exact = ok && r.spoke.serial === c.serial;
          return h('span', { class: ok ? 'change-ok' : 'muted', text: r.cluster + (ok ? ' ✓' + (exact ? ' ' + age(r.spoke.acked_at) + ' ago' : '') : ' …') + '  ' });
        }))))));
    });
  }

  // ---- cluster drill-down ----

  async function refreshCluster(name) {
    const c = await api('GET', '/api/v1/clusters/' + encodeURIComponent(name));
    $('cluster-title').textContent = c.name;
    const conn = $('cluster-conn');
    conn.className = 'cell-state ' + (c.connected ? 'st-connected' : 'st-disconnected');
    conn.textContent = c.connected ? 'connected' : 'disconnected';
    const exp = ms(c.cert_not_after);
    const days = exp === null ? null : Math.floor((exp - Date.now()) / 86400000);
    const tick = Math.floor(Date.now() / 10000);
    renderIfChanged('cluster-facts', [c, tick], () => [
      h('dt', { text: 'Connected since' }), h('dd', { text: c.connected ? when(c.connected_since) : '—' }),
      h('dt', { text: 'Last seen' }), h('dd', { text: when(c.last_seen) }),
      h('dt', { text: 'Spoke version' }), h('dd', { text: c.software_version || '—' }),
      h('dt', { text: 'Peer' }), h('dd', { class: 'mono', text: c.peer || '—' }),
      h('dt', { text: 'Certificate expires' }), h('dd', { class: days !== null && days < 14 ? 'error' : '',
        text: exp === null ? '—' : new Date(exp).toISOString() + ' (' + (days < 0 ? 'expired' : 'in ' + days + ' days') + ')' }),
      h('dt', { text: 'Change sets' }), h('dd', { text: (c.sent || 0) + ' sent, ' + (c.applied || 0) + ' applied, ' + (c.refused || 0) + ' refused' }),
      h('dt', { text: 'Last error' }), h('dd', { class: c.last_error ? 'error' : 'muted', text: c.last_error || '—' }),
    ]);
    const zones = c.zones || [];
    renderIfChanged('cluster-zones', [zones, tick], () => {
      if (zones.length === 0) return h('p', { class: 'muted', text: 'No zone is placed on this cluster (that you may see).' });
      return h('table', {}, h('thead', {}, h('tr', {}, ['Zone', 'Tenant', 'State', 'Hub serial', 'Spoke serial', 'Acked', 'Secondaries']
        .map((t) => h('th', { text: t })))),
      h('tbody', {}, zones.map((r) => h('tr', { data: { zone: r.zone, state: r.state } },
        h('td', {}, h('a', { href: zoneHref(r.zone), text: r.zone })),
        h('td', { text: r.tenant }),
        h('td', {}, stateBadge(r.state), h('span', { class: 'muted', text: ' ' + age(rowSince(r)) })),
        h('td', { class: 'mono', text: r.hub_serial }),
        h('td', { class: 'mono', text: r.spoke ? r.spoke.serial : '—' }),
        h('td', { text: r.spoke && r.spoke.acked_at ? age(r.spoke.acked_at) + ' ago' : '—' }),
        h('td', { text: (r.secondaries || []).map((s) => s.name + ' ' + (STATE_LABEL[s.state] || s.state)).join(', ') || '—' })))));
    });
  }

  // ---- polling ----

  async function refresh() {
    if (busy || !signedIn()) return;
    busy = true;
    const r = route();
    try {
      if (r.view === 'zone') {
        showOnly('view-zone');
        await refreshZone(r.name);
      } else if (r.view === 'cluster') {
        showOnly('view-cluster');
        await refreshCluster(r.name);
      } else {
        showOnly('view-matrix');
        await refreshMatrix();
      }
      lastOk = Date.now();
      banner('');
    } catch (e) {
      if (e.status === 401) {
        busy = false;
        signOut('The hub no longer accepts this ' + (keyCred ? 'key (' + e.message + ')' : 'token') + '; sign in again.');
        return;
      }
      banner((e.status ? e.status + ' ' : '') + e.code + ': ' + e.message);
    } finally {
      busy = false;
    }
    polls++;
    document.body.dataset.polls = String(polls);
    const live = $('live');
    live.textContent = lastOk ? 'updated ' + new Date(lastOk).toLocaleTimeString() : 'not updated yet';
    live.classList.toggle('stale', !lastOk || Date.now() - lastOk > 3 * POLL_MS);
  }

  function startPolling() {
    stopPolling();
    refresh();
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }

  function onNavigate() {
    rendered.clear();
    if (signedIn()) startPolling();
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      $('token').value = '';
      if (t && (await signIn(t))) startPolling();
    });
    $('key-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const file = $('key-file').files[0];
      $('key-file').value = ''; // the page keeps only the imported key, not the file
      if (!file) {
        $('login-error').textContent = 'Choose your private key file first.';
        return;
      }
      if (await signInWithKey(file)) startPolling();
    });
    $('logout').addEventListener('click', () => signOut(''));
    for (const id of ['f-tenant', 'f-cluster', 'f-state']) $(id).addEventListener('change', () => { rendered.clear(); refresh(); });
    $('f-zone').addEventListener('input', () => { rendered.delete('matrix'); rendered.delete('summary'); refresh(); });
    window.addEventListener('hashchange', onNavigate);
    if (sessionStorage.getItem(TOKEN_KEY) && (await signIn(sessionStorage.getItem(TOKEN_KEY)))) {
      startPolling();
    } else {
      signOut('');
    }
  });
})();
