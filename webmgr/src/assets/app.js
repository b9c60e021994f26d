// clp WebManager: the overview, the detail views, the live alert log and the operations.
// Plain JavaScript, no build step. Every text comes from the server's table (#texts), in
// the language of [cluster] language; data is put in the page as text, never as HTML.
'use strict';

const TEXTS = JSON.parse(document.getElementById('texts').textContent || '{}');
const t = (key) => TEXTS[key] || key;
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

for (const node of document.querySelectorAll('[data-text]')) {
  node.textContent = t(node.dataset.text);
}

// ---- Talking to the server ------------------------------------------------------------

// A password typed into the page's own box, sent as HTTP Basic (the user name is ignored).
let password = sessionStorage.getItem('clp-password');

async function api(method, path, body) {
  const headers = { 'Accept': 'application/json', 'X-Requested-With': 'clpwebmgr' };
  if (password !== null) headers['Authorization'] = 'Basic ' + btoa(unescape(encodeURIComponent(':' + password)));
  const options = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const error = new Error((data && data.error) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

// Runs `call`; on 401 asks for the password in the page and tries again.
async function withPassword(call) {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error.status !== 401) throw error;
      const typed = await askPassword(error.message);
      if (typed === null) throw error;
      password = typed;
      sessionStorage.setItem('clp-password', typed);
    }
  }
}

function askPassword(message) {
  return new Promise((resolve) => {
    const box = $('password-box');
    const input = $('password-input');
    $('password-message').textContent = message;
    input.value = '';
    box.hidden = false;
    input.focus();
    const finish = (value) => {
      box.hidden = true;
      $('password-ok').onclick = null;
      $('password-cancel').onclick = null;
      input.onkeydown = null;
      resolve(value);
    };
    $('password-ok').onclick = () => finish(input.value);
    $('password-cancel').onclick = () => finish(null);
    input.onkeydown = (event) => { if (event.key === 'Enter') finish(input.value); };
  });
}

function confirmAction(text) {
  return new Promise((resolve) => {
    $('dialog-text').textContent = text;
    $('dialog').hidden = false;
    $('dialog-ok').focus();
    const finish = (value) => {
      $('dialog').hidden = true;
      $('dialog-ok').onclick = null;
      $('dialog-cancel').onclick = null;
      resolve(value);
    };
    $('dialog-ok').onclick = () => finish(true);
    $('dialog-cancel').onclick = () => finish(false);
  });
}

function banner(text, kind) {
  const node = $('banner');
  node.textContent = text;
  node.className = 'banner ' + (kind || 'info');
  node.hidden = !text;
}

// ---- The page's state -------------------------------------------------------------------

let view = null;          // GET /api/v1/cluster
let busy = false;         // an operation is running
let selected = decodeURIComponent(location.hash.slice(1)) || 'cluster:';

function statusClass(word) {
  return 'st-' + String(word || 'Unknown').replace(/\s+/g, '-').toLowerCase();
}

function stateCell(word) {
  return el('span', { class: 'state ' + statusClass(word), 'data-status': word },
    el('span', { class: 'lamp' }), t(word));
}

function opButton(kind, name, action, path) {
  const label = t(action);
  return el('button', {
    type: 'button',
    class: 'op op-' + action,
    'data-op': path,
    disabled: busy,
    onclick: () => operate(path, t('confirm_body').replace('{action}', label).replace('{target}', (name ? t(kind) + ' ' + name : t(kind)))),
  }, label);
}

async function operate(path, question) {
  if (!(await confirmAction(question))) return;
  busy = true;
  render();
  banner('…', 'info');
  try {
    const result = await withPassword(() => api('POST', path, {}));
    banner((result && result.result) || t('op_done'), 'ok');
  } catch (error) {
    const prefix = error.status === 401 ? t('unauthorized') : error.status === 403 ? t('forbidden') : t('op_failed');
    banner(prefix + ': ' + error.message, 'error');
  } finally {
    busy = false;
    render(true);
    await refresh();
  }
}

// ---- Rendering --------------------------------------------------------------------------

// The monitors' check counts change at every check; only the monitor detail shows them, so
// elsewhere they do not redraw the page (a button under the pointer stays the same button).
let drawn = null;

function render(force) {
  if (!view) return;
  const volatile = new Set(['checks', 'last_check_us', 'last_lateness_us', 'pid']);
  const showsCounters = selected.startsWith('monitor:') || selected.startsWith('resource:');
  const signature = JSON.stringify([view, selected, busy, detailCache.key, detailCache.data],
    (key, value) => (!showsCounters && volatile.has(key) ? undefined : value));
  if (!force && signature === drawn) return;
  drawn = signature;
  $('cluster-name').textContent = view.cluster;
  const daemon = $('daemon-state');
  daemon.textContent = t(view.daemon);
  daemon.className = 'badge daemon-' + view.daemon;
  daemon.dataset.state = view.daemon;
  if (view.daemon_message && !$('banner').classList.contains('error')) {
    banner(t('daemon_down') + ' (' + view.daemon_message + ')', 'warning');
  } else if (!view.daemon_message && $('banner').classList.contains('warning')) {
    banner('', 'info');
  }
  const ops = $('cluster-ops');
  ops.replaceChildren(
    el('span', { class: 'toolbar-label', text: t('daemon') }),
    opButton('cluster', view.cluster, 'start', '/api/v1/cluster/start'),
    opButton('cluster', view.cluster, 'stop', '/api/v1/cluster/stop'),
    opButton('cluster', view.cluster, 'suspend', '/api/v1/cluster/suspend'),
    opButton('cluster', view.cluster, 'resume', '/api/v1/cluster/resume'),
    el('span', { class: 'spacer' }),
    el('button', { type: 'button', class: 'op op-collect', id: 'collect-logs', disabled: busy, onclick: collectLogs }, t('collect_logs')),
  );
  renderTree();
  renderDetail();
}

function treeItem(kind, name, word, depth, label) {
  const key = kind + ':' + name;
  return el('li', { class: 'item depth-' + depth + (selected === key ? ' selected' : ''), 'data-object': key },
    el('a', { href: '#' + encodeURIComponent(key), class: 'name' }, label || name),
    stateCell(word));
}

function renderTree() {
  const list = el('ul', {});
  list.append(treeItem('cluster', '', view.health === 'normal' ? 'Normal' : view.health === 'caution' ? 'Warning' : 'Error', 0, view.cluster));
  list.append(treeItem('server', view.server.name, view.server.status, 1, view.server.name));
  list.append(el('li', { class: 'heading depth-1', text: t('groups') }));
  for (const group of view.groups) {
    list.append(treeItem('group', group.name, group.status, 2));
    for (const resource of group.resources) list.append(treeItem('resource', resource.name, resource.status, 3));
  }
  list.append(el('li', { class: 'heading depth-1', text: t('monitors') }));
  for (const monitor of view.monitors) list.append(treeItem('monitor', monitor.name, monitor.status, 2));
  $('tree').replaceChildren(list);
}

function table(headers, rows, attrs) {
  return el('table', Object.assign({ class: 'objects' }, attrs || {}),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { text: t(h) })))),
    el('tbody', {}, ...rows));
}

function overview() {
  const groupRows = [];
  for (const group of view.groups) {
    groupRows.push(el('tr', { class: 'group-row', 'data-object': 'group:' + group.name },
      el('td', {}, el('a', { href: '#group:' + encodeURIComponent(group.name), text: group.name })),
      el('td', {}, t('group')),
      el('td', {}, stateCell(group.status)),
      el('td', { text: group.comment }),
      el('td', { class: 'ops' },
        opButton('group', group.name, 'start', '/api/v1/groups/' + encodeURIComponent(group.name) + '/start'),
        opButton('group', group.name, 'stop', '/api/v1/groups/' + encodeURIComponent(group.name) + '/stop'))));
    for (const resource of group.resources) {
      groupRows.push(el('tr', { class: 'resource-row', 'data-object': 'resource:' + resource.name },
        el('td', { class: 'indent' }, el('a', { href: '#resource:' + encodeURIComponent(resource.name), text: resource.name })),
        el('td', {}, resource.kind),
        el('td', {}, stateCell(resource.status)),
        el('td', { text: resource.comment }),
        el('td', { class: 'ops' },
          opButton('resource', resource.name, 'start', '/api/v1/resources/' + encodeURIComponent(resource.name) + '/start'),
          opButton('resource', resource.name, 'stop', '/api/v1/resources/' + encodeURIComponent(resource.name) + '/stop'))));
    }
  }
  const monitorRows = view.monitors.map((monitor) => el('tr', { class: 'monitor-row', 'data-object': 'monitor:' + monitor.name },
    el('td', {}, el('a', { href: '#monitor:' + encodeURIComponent(monitor.name), text: monitor.name })),
    el('td', {}, monitor.kind),
    el('td', {}, stateCell(monitor.status)),
    el('td', { text: monitor.comment }),
    el('td', { class: 'ops' },
      opButton('monitor', monitor.name, 'suspend', '/api/v1/monitors/' + encodeURIComponent(monitor.name) + '/suspend'),
      opButton('monitor', monitor.name, 'resume', '/api/v1/monitors/' + encodeURIComponent(monitor.name) + '/resume'))));
  const server = view.server;
  return el('div', { class: 'overview' },
    el('h2', {}, t('server')),
    table(['name', 'status', 'heartbeat', 'comment'], [
      el('tr', { 'data-object': 'server:' + server.name },
        el('td', {}, el('a', { href: '#server:' + encodeURIComponent(server.name), text: server.name })),
        el('td', {}, stateCell(server.status)),
        el('td', {}, server.heartbeat.name + ' ', stateCell(server.heartbeat.status)),
        el('td', { text: server.comment }))]),
    el('h2', {}, t('groups')),
    view.groups.length ? table(['name', 'type', 'status', 'comment', 'operations'], groupRows, { id: 'groups' }) : el('p', { class: 'empty', text: '-' }),
    el('h2', {}, t('monitors')),
    table(['name', 'type', 'status', 'comment', 'operations'], monitorRows, { id: 'monitors' }));
}

let detailCache = { key: null, data: null };

async function loadDetail(key) {
  const [kind, name] = splitKey(key);
  if (kind === 'cluster' || !name) return;
  try {
    const data = await api('GET', '/api/v1/' + kind + 's/' + encodeURIComponent(name));
    detailCache = { key, data };
  } catch (error) {
    detailCache = { key, data: { error: error.message } };
  }
  renderDetail();
}

function splitKey(key) {
  const at = key.indexOf(':');
  return at < 0 ? [key, ''] : [key.slice(0, at), key.slice(at + 1)];
}

function paramTable(parameters) {
  return table(['name', 'value'], (parameters || []).map((p) => {
    const label = p.key.startsWith('parameter.') ? p.key.slice('parameter.'.length) : t(p.key);
    return el('tr', {}, el('th', { text: label }), el('td', { text: p.value }));
  }), { class: 'objects params' });
}

function counters(monitor) {
  const ms = (us) => (us === null || us === undefined ? '-' : (us / 1000).toFixed(1));
  const rows = [
    ['reactivations', monitor.reactivations + ' / ' + monitor.reactivation_threshold],
    ['failovers', monitor.failovers + ' / ' + monitor.failover_threshold],
    ['final_action_done', monitor.final_action_done ? 'Yes' : 'No'],
    ['checks', String(monitor.checks)],
    ['last_check', ms(monitor.last_check_us)],
    ['last_lateness', ms(monitor.last_lateness_us)],
    ['last_detail', monitor.last_detail || '-'],
    ['dummy_failure', monitor.dummy_failure ? 'On' : 'Off'],
  ];
  return table(['name', 'value'], rows.map(([key, value]) =>
    el('tr', {}, el('th', { text: t(key) }), el('td', { text: value }))), { class: 'objects params', id: 'counters' });
}

function renderDetail() {
  const box = $('detail');
  const [kind, name] = splitKey(selected);
  if (kind === 'cluster' || !name) {
    box.replaceChildren(overview());
    return;
  }
  // The live state comes from the status; the parameters from the detail request.
  let live = null;
  if (kind === 'group') live = view.groups.find((g) => g.name === name);
  if (kind === 'resource') live = view.groups.flatMap((g) => g.resources).find((r) => r.name === name);
  if (kind === 'monitor') live = view.monitors.find((m) => m.name === name);
  if (kind === 'server') live = view.server.name === name ? view.server : null;
  const data = detailCache.key === selected ? detailCache.data : null;
  if (!data) {
    if (detailCache.key !== selected) { detailCache = { key: selected, data: null }; loadDetail(selected); }
  }
  const title = el('h2', {}, el('a', { href: '#cluster:', class: 'back', text: '← ' + t('overview') }), ' ', t(kind) + ': ' + name);
  if (!live) {
    box.replaceChildren(title, el('p', { class: 'error-text', text: (data && data.error) || '-' }));
    return;
  }
  const parts = [title, el('p', { class: 'detail-state' }, t('status') + ': ', stateCell(live.status))];
  const ops = el('div', { class: 'ops detail-ops' });
  const base = '/api/v1/' + kind + 's/' + encodeURIComponent(name);
  if (kind === 'group' || kind === 'resource') ops.append(opButton(kind, name, 'start', base + '/start'), opButton(kind, name, 'stop', base + '/stop'));
  if (kind === 'monitor') ops.append(opButton(kind, name, 'suspend', base + '/suspend'), opButton(kind, name, 'resume', base + '/resume'));
  parts.push(ops);
  if (kind === 'group') parts.push(el('p', {}, t('current') + ': ' + (live.current || '-')));
  if (kind === 'resource' && live.pid) parts.push(el('p', {}, t('pid') + ': ' + live.pid));
  if (kind === 'monitor') parts.push(el('h3', { text: t('counters') }), counters(live));
  parts.push(el('h3', { text: t('parameters') }));
  parts.push(data ? (data.error ? el('p', { class: 'error-text', text: data.error }) : paramTable(data.parameters)) : el('p', { text: '…' }));
  box.replaceChildren(...parts);
}

// ---- The alert log ----------------------------------------------------------------------

const MAX_ROWS = 300;

function alertRow(alert) {
  return el('tr', { class: 'level-' + String(alert.level).toLowerCase(), 'data-seq': alert.seq },
    el('td', { class: 'level' }, el('span', { class: 'lamp' }), t(alert.level)),
    el('td', { class: 'received', text: alert.time }),
    el('td', { class: 'time', text: alert.time }),
    el('td', { text: alert.server }),
    el('td', { text: alert.module }),
    el('td', { class: 'event-id', text: alert.event_id }),
    el('td', { class: 'message', text: alert.message }));
}

function showAlerts(alerts) {
  const body = $('alert-rows');
  const rows = alerts.slice(-MAX_ROWS).reverse().map(alertRow);
  if (!rows.length) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: 7, text: t('no_alerts') })));
  body.replaceChildren(...rows);
}

function addAlert(alert) {
  const body = $('alert-rows');
  const empty = body.querySelector('tr.empty');
  if (empty) empty.remove();
  body.prepend(alertRow(alert));
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
}

function follow() {
  const live = $('live');
  const source = new EventSource('/api/v1/events');
  source.addEventListener('open', () => { live.textContent = '● ' + t('live'); live.className = 'live on'; });
  source.addEventListener('error', () => { live.textContent = '○ ' + t('disconnected'); live.className = 'live off'; });
  source.addEventListener('snapshot', (event) => showAlerts(JSON.parse(event.data)));
  source.addEventListener('alert', (event) => addAlert(JSON.parse(event.data)));
  source.addEventListener('status', (event) => { view = JSON.parse(event.data); render(); });
}

// ---- Log collection ---------------------------------------------------------------------

// Bytes as MiB with one decimal (the log collection's progress).
function mebibytes(bytes) {
  return (bytes / 1048576).toFixed(1);
}

async function collectLogs() {
  if (!(await confirmAction(t('collect_logs') + '?'))) return;
  const box = $('collect-box');
  const bar = $('collect-bar');
  const text = $('collect-text');
  const download = $('collect-download');
  download.hidden = true;
  bar.style.width = '0%';
  text.textContent = t('collecting') + '…';
  box.hidden = false;
  $('collect-close').onclick = () => { box.hidden = true; };
  let job;
  try {
    job = await withPassword(() => api('POST', '/api/v1/logs/collect', { type: 'type1' }));
  } catch (error) {
    text.textContent = t('op_failed') + ': ' + error.message;
    return;
  }
  for (;;) {
    if (job.total) bar.style.width = Math.round((100 * job.done) / job.total) + '%';
    if (job.state === 'done') {
      text.textContent = t('collected') + ': ' + job.file_name;
      download.href = job.download;
      download.setAttribute('download', job.file_name);
      download.hidden = false;
      return;
    }
    if (job.state === 'failed') {
      text.textContent = t('op_failed') + ': ' + job.error;
      return;
    }
    text.textContent = t('collecting') + ' ' + job.server + ': ' + mebibytes(job.done) + '/' + (job.total ? mebibytes(job.total) : '?') + ' MiB ' + job.item;
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      job = await api('GET', '/api/v1/logs/jobs/' + job.id);
    } catch (error) {
      text.textContent = t('op_failed') + ': ' + error.message;
      return;
    }
  }
}

// ---- Start ------------------------------------------------------------------------------

async function refresh() {
  try {
    view = await withPassword(() => api('GET', '/api/v1/cluster'));
    render();
  } catch (error) {
    banner(t('op_failed') + ': ' + error.message, 'error');
  }
}

if ($('alert-rows')) {
  window.addEventListener('hashchange', () => {
    selected = decodeURIComponent(location.hash.slice(1)) || 'cluster:';
    render();
  });
  refresh().then(follow);
} else if ($('servers')) {
  // The integrated viewer asks every server again every ten seconds.
  setTimeout(() => location.reload(), 10000);
}
