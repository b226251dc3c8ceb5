// Switchboard's web view: one EventSource (/ui/api/events) keeps the objects the user may see; the server aggregates
// the trace and sends the service map's edges that changed and, for the one Service the page shows (POST
// /ui/api/flow), its counters, per-second buckets and newest events. Each view is drawn from that state on the next
// animation frame after a change, at most once a frame. No library, no build step.
'use strict';

const WINDOW_S = 60;
const RECENT = 200;
const ROW_HEIGHT = 30;
const state = {
  namespace: new Map(), node: new Map(), service: new Map(), endpoints: new Map(), pod: new Map(),
  edges: new Map(), synced: false, trace: false, stream: null, tab: 'overview', selected: null, podKey: null, podLogs: null, search: '',
  flow: null, flowError: null,
};
// Event time → paint, for the flow's connections (ms, newest last): what the page measures of its own lag.
window.sbPaints = [];
window.sbPaintCount = 0;

const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- state from the stream ----
function apply(change) {
  if (change.synced) { state.synced = true; return; }
  const kind = state[change.kind];
  if (!(kind instanceof Map)) return;
  if (change.value === null || change.value === undefined) kind.delete(change.key); else kind.set(change.key, change.value);
}
function applyEdges(m) {
  if (m.full) state.edges.clear();
  for (const e of m.edges) { const k = `${e.client}|${e.service}`; if (e.n > 0) state.edges.set(k, e); else state.edges.delete(k); }
}
let generation = 0;
function emptyFlow(key) { return { key, generation: ++generation, totals: {}, seconds: new Map(), fresh: [], freshDns: [], omitted: 0, now: 0 }; }
// A flow frame: totals replace, buckets by second replace, events are added on top (a full frame starts the lists again).
function applyFlow(f) {
  if (!state.flow || state.flow.key !== f.service) return;
  if (f.full) state.flow = emptyFlow(f.service);
  const flow = state.flow;
  flow.totals = f.totals;
  flow.now = f.now;
  for (const [second, counts] of f.seconds) flow.seconds.set(second, counts);
  for (const second of flow.seconds.keys()) if (second <= f.now - WINDOW_S) flow.seconds.delete(second);
  flow.omitted = f.omitted;
  const received = performance.timeOrigin + performance.now();
  for (const e of f.connections) { e.received = received; e.replay = f.full; flow.fresh.push(e); }
  for (const e of f.dns) flow.freshDns.push(e);
  // Not drawn while another tab shows: only the newest are kept for when it does.
  if (flow.fresh.length > RECENT) flow.fresh.splice(0, flow.fresh.length - RECENT);
  if (flow.freshDns.length > RECENT) flow.freshDns.splice(0, flow.freshDns.length - RECENT);
}

function connect() {
  const source = new EventSource('/ui/api/events');
  source.addEventListener('snapshot', (m) => {
    const s = JSON.parse(m.data);
    for (const k of ['namespace', 'node', 'service', 'endpoints', 'pod']) state[k].clear();
    s.objects.forEach(apply);
    state.edges.clear();
    applyEdges({ full: true, edges: s.edges });
    state.synced = s.synced;
    state.trace = s.trace;
    state.stream = s.stream;
    setStatus(true);
    if (state.selected) subscribeFlow(state.selected);
    schedule();
  });
  source.addEventListener('changes', (m) => { JSON.parse(m.data).forEach(apply); schedule(); });
  source.addEventListener('map', (m) => { applyEdges(JSON.parse(m.data)); schedule(); });
  source.addEventListener('flow', (m) => { applyFlow(JSON.parse(m.data)); schedule(); });
  source.onerror = () => {
    setStatus(false);
    // A closed stream after the session ended: back to the login.
    if (source.readyState === EventSource.CLOSED) {
      fetch('/ui/api/events', { method: 'HEAD' }).then((r) => { if (r.status === 401) location.reload(); else setTimeout(connect, 1000); });
    }
  };
}
// The server sends this stream the flow of one Service: the one the page shows.
async function subscribeFlow(key) {
  state.flow = key ? emptyFlow(key) : null;
  state.flowError = null;
  if (!state.stream) return;
  const [namespace, name] = key ? key.split('/') : ['', ''];
  const r = await fetch('/ui/api/flow', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ stream: state.stream, namespace, name }) });
  if (!r.ok && r.status !== 404) state.flowError = (await r.json()).message;
  schedule();
}
function setStatus(live) {
  const s = $('status');
  s.textContent = live ? (state.synced ? 'live' : 'loading…') : 'reconnecting…';
  s.classList.toggle('live', live);
}

let pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}
function render() {
  setStatus(true);
  if (state.tab === 'overview') renderOverview();
  else if (state.tab === 'map') renderMap();
  else if (state.tab === 'flow') renderFlow();
  else if (state.tab === 'pod') renderPod();
  document.body.dataset.rendered = String(Date.now());
}

// ---- tabs, search, selection ----
function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  if (tab === 'rules') loadRules();
  if (tab === 'pod' && state.podKey) loadPod();
  render();
}
function selectService(key) { if (state.selected !== key) { state.selected = key; subscribeFlow(key); } showTab('flow'); }
function selectPod(key) { state.podKey = key; state.podLogs = null; showTab('pod'); }

// ---- overview: namespaces, then services, virtualised ----
function endpointsOf(key) { return (state.endpoints.get(key) || { endpoints: [] }).endpoints; }
function endpointState(e) { return e.terminating ? 'terminating' : e.ready ? 'ready' : 'notready'; }
function overviewRows() {
  const q = state.search.toLowerCase();
  const byNs = new Map();
  for (const [key, s] of state.service) {
    const eps = endpointsOf(key);
    if (q && !key.toLowerCase().includes(q) && !(s.clusterIP || '').includes(q) && !eps.some((e) => (e.pod || '').toLowerCase().includes(q))) continue;
    if (!byNs.has(s.namespace)) byNs.set(s.namespace, []);
    byNs.get(s.namespace).push(key);
  }
  const rows = [];
  for (const ns of [...new Set([...state.namespace.keys(), ...byNs.keys()])].sort()) {
    const keys = (byNs.get(ns) || []).sort();
    if (q && keys.length === 0) continue;
    rows.push({ ns, count: keys.length });
    for (const key of keys) rows.push({ key });
  }
  return rows;
}
function renderOverview() {
  const rows = overviewRows();
  $('counts').textContent = `${state.namespace.size} namespaces, ${state.service.size} services, ${state.pod.size} pods`;
  const list = $('list');
  $('list-spacer').style.height = `${rows.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(list.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(rows.length, first + Math.ceil(list.clientHeight / ROW_HEIGHT) + 10);
  const box = $('list-rows');
  box.style.top = `${first * ROW_HEIGHT}px`;
  box.replaceChildren(...rows.slice(first, last).map(overviewRow));
}
function overviewRow(r) {
  if (r.ns !== undefined) return el('div', { class: 'row ns', 'data-namespace': r.ns }, `${r.ns} (${r.count} services)`);
  const s = state.service.get(r.key);
  const eps = endpointsOf(r.key);
  const ports = s.ports.map((p) => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`).join(', ');
  const pods = eps.map((e) => el('span', {
    class: `pod ${endpointState(e)}`, 'data-pod': e.pod || e.ip, 'data-state': endpointState(e), title: `${e.ip} ${endpointState(e)}`,
    onclick: (ev) => { ev.stopPropagation(); if (e.pod) selectPod(`${s.namespace}/${e.pod}`); },
  }, e.pod || e.ip));
  return el('div', { class: `row svc${state.selected === r.key ? ' selected' : ''}`, 'data-service': r.key, 'data-endpoints': String(eps.length), onclick: () => selectService(r.key) },
    el('span', { class: 'name', text: s.name }), el('span', { class: 'ip', text: s.clusterIP || 'None' }), el('span', { class: 'ports', text: ports }),
    el('span', { class: 'dns', text: s.dns }), el('span', { class: 'pods' }, ...pods));
}

// ---- trace helpers ----
const podName = (end) => (end && end.pod ? `${end.pod.namespace}/${end.pod.name}` : end ? end.ip : '?');

// ---- service map: the server's edges (client → Service, connections in the last minute) ----
function renderMap() {
  const q = state.search.toLowerCase();
  const list = [...state.edges.values()].filter((x) => !q || x.client.toLowerCase().includes(q) || x.service.toLowerCase().includes(q));
  const clients = [...new Set(list.map((x) => x.client))].sort();
  const services = [...new Set(list.map((x) => x.service))].sort();
  const root = $('map-svg');
  const width = root.clientWidth || 900;
  const h = Math.max(root.clientHeight || 400, 40 + 36 * Math.max(clients.length, services.length));
  root.setAttribute('viewBox', `0 0 ${width} ${h}`);
  const y = (i, n) => 20 + (i + 0.5) * ((h - 40) / Math.max(n, 1));
  const max = Math.max(1, ...list.map((x) => x.n));
  const nodes = [];
  for (const x of list) {
    const y1 = y(clients.indexOf(x.client), clients.length); const y2 = y(services.indexOf(x.service), services.length);
    const path = svg('path', { class: 'edge', d: `M 220 ${y1} C ${width / 2} ${y1}, ${width / 2} ${y2}, ${width - 240} ${y2}`, 'stroke-width': String(1 + 9 * (x.n / max)), 'data-edge': `${x.client}->${x.service}`, 'data-count': String(x.n) });
    path.append(svg('title', {}, `${x.client} → ${x.service}: ${x.n} connections in the last minute`));
    nodes.push(path, svg('text', { x: String(width / 2), y: String((y1 + y2) / 2 - 4), 'text-anchor': 'middle' }, String(x.n)));
  }
  clients.forEach((c, i) => nodes.push(svg('rect', { class: 'box', x: '10', y: String(y(i, clients.length) - 12), width: '210', height: '24', rx: '4' }), svg('text', { x: '18', y: String(y(i, clients.length) + 4) }, c)));
  services.forEach((s, i) => {
    const r = svg('rect', { class: 'svcbox', x: String(width - 240), y: String(y(i, services.length) - 12), width: '230', height: '24', rx: '12', 'data-map-service': s });
    r.addEventListener('click', () => selectService(s));
    nodes.push(r, svg('text', { x: String(width - 230), y: String(y(i, services.length) + 4) }, s));
  });
  const empty = state.trace ? 'No connections to services in the last minute.' : 'Your user may not read the trace (get nodes/proxy).';
  if (list.length === 0) nodes.push(svg('text', { x: '20', y: '40' }, empty));
  root.replaceChildren(...nodes);
}

// ---- flow: the server's counters and buckets for the selected Service, and its newest events ----
const colours = ['#2457c5', '#e07b00', '#17702b', '#b00020', '#7b3fbf', '#00838f', '#8d6e63', '#c2185b'];
function renderFlow() {
  const key = state.selected;
  if (!key || !state.service.has(key)) { $('flow-title').textContent = 'Pick a Service in the overview'; return; }
  const s = state.service.get(key);
  $('flow-title').textContent = `${key} · ${s.clusterIP} · ${s.dns}`;
  const flow = state.flow || emptyFlow(key);
  $('flow-note').textContent = state.flowError || (!state.trace ? 'Your user may not read the trace (get nodes/proxy): only the endpoints are shown.'
    : flow.omitted ? `${flow.omitted} events of the last 100 ms not listed (more than the page is sent); the counters include them.` : '');
  const counts = flow.totals;
  const eps = endpointsOf(key);
  const addresses = [...new Set([...eps.flatMap((e) => (e.ports.length ? e.ports : [0]).map((p) => `${e.ip}:${p}`)), ...Object.keys(counts)])];
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const body = $('flow-endpoints').tBodies[0];
  const previous = new Map([...body.rows].map((r) => [r.dataset.endpoint, r.dataset.count]));
  body.replaceChildren(...addresses.map((a, i) => {
    const ep = eps.find((e) => a.startsWith(`${e.ip}:`));
    const n = counts[a] || 0;
    const cell = el('td', { class: `count${previous.has(a) && previous.get(a) !== String(n) ? ' bump' : ''}`, text: String(n) });
    return el('tr', { 'data-endpoint': a, 'data-pod': ep && ep.pod, 'data-count': String(n) },
      el('td', {}, el('span', { class: 'swatch', text: '■ ' }), a), el('td', { text: ep ? ep.pod || '' : '(gone)' }), el('td', { text: ep ? endpointState(ep) : '' }),
      cell, el('td', { text: total ? `${Math.round((100 * n) / total)}%` : '' }));
  }));
  [...body.rows].forEach((r, i) => { r.cells[0].firstChild.style.color = colours[i % colours.length]; });
  renderChart(flow, addresses);
  const painted = prependEvents($('flow-connections'), flow, 'fresh', (e) =>
    `${e.time.slice(11, 23)} ${e.type.toUpperCase()} ${e.event} ${podName(e.client)} → ${e.destination.ip}:${e.destination.port}${e.endpoint ? ` ⇒ ${podName(e.endpoint)} (${e.endpoint.ip}:${e.endpoint.port})` : ''}: `, (e) => e.verdict);
  prependEvents($('flow-dns'), flow, 'freshDns', (e) =>
    `${e.time.slice(11, 23)} ${podName(e.client)} ${e.qtype} ${e.name} (${e.source}): `, (e) => `${e.verdict}${(e.answers || []).length ? ` ${e.answers.map((a) => a.data).join(', ')}` : ''}`);
  if (painted.some((e) => !e.replay)) measurePaint(painted.filter((e) => !e.replay));
}
// New events go on top of the list, which keeps its newest RECENT: the rows already there are not drawn again.
function prependEvents(list, flow, freshKey, text, verdict) {
  const fresh = flow[freshKey];
  const id = `${flow.key}#${flow.generation}`;
  if (list.dataset.flow !== id) { list.replaceChildren(); list.dataset.flow = id; }
  if (!fresh.length) return [];
  flow[freshKey] = [];
  const items = fresh.slice(-RECENT);
  const rows = items.map((e) => el('li', { class: 'new', 'data-type': e.type, 'data-endpoint': e.endpoint ? `${e.endpoint.ip}:${e.endpoint.port}` : null, 'data-client': podName(e.client) },
    text(e), el('span', { class: `verdict-${e.verdict}`, text: verdict(e) })));
  for (const old of list.querySelectorAll('li.new')) old.classList.remove('new');
  list.prepend(...rows.reverse());
  while (list.childElementCount > RECENT) list.lastElementChild.remove();
  return items;
}
// The frame after the one that added them starts once they are painted: the event's time to then is the page's lag.
function measurePaint(events) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const now = performance.timeOrigin + performance.now();
    for (const e of events) {
      const at = Date.parse(`${e.time.slice(0, 23)}Z`);
      if (Number.isNaN(at)) continue;
      window.sbPaints.push({ service: state.flow && state.flow.key, event: e.event, latency: now - at, received: e.received - at });
      window.sbPaintCount++;
    }
    if (window.sbPaints.length > 1000) window.sbPaints.splice(0, window.sbPaints.length - 1000);
  }));
}
// Shares per endpoint over the last minute, in 5 s columns summed from the server's per-second buckets.
function renderChart(flow, addresses) {
  const root = $('flow-chart');
  const width = root.clientWidth || 500; const height = root.clientHeight || 140;
  root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const columns = 12; const bw = width / columns; const step = WINDOW_S / columns;
  const now = flow.now || Math.floor(Date.now() / 1000);
  const nodes = [];
  for (let b = 0; b < columns; b++) {
    const sums = new Map(); let all = 0;
    for (let second = now - WINDOW_S + 1 + b * step; second <= now - WINDOW_S + (b + 1) * step; second++) {
      for (const [a, n] of Object.entries(flow.seconds.get(second) || {})) { sums.set(a, (sums.get(a) || 0) + n); all += n; }
    }
    let y = height;
    addresses.forEach((a, i) => {
      const n = sums.get(a) || 0;
      if (!n) return;
      const hgt = (height - 10) * (n / all);
      y -= hgt;
      nodes.push(svg('rect', { x: String(b * bw + 2), y: String(y), width: String(bw - 4), height: String(hgt), fill: colours[i % colours.length] }, undefined));
    });
  }
  root.replaceChildren(...nodes);
}

// ---- rules ----
async function loadRules() {
  const key = state.selected;
  if (!key) return;
  const [ns, name] = key.split('/');
  $('rules-title').textContent = `Rules programmed for ${key}`;
  const r = await fetch(`/ui/api/rules?namespace=${encodeURIComponent(ns)}&name=${encodeURIComponent(name)}`);
  const body = $('rules-body');
  if (!r.ok) { body.replaceChildren(el('p', { class: 'error', text: (await r.json()).message })); return; }
  const data = await r.json();
  body.replaceChildren(...data.nodes.flatMap((n) => n.error
    ? [el('p', { class: 'error', text: `${n.node}: ${n.error}` })]
    : [el('h3', { text: `node ${n.node} · ${n.mode} mode` }), ...n.ports.map((p) => el('table', { class: 'grid rules', 'data-mode': n.mode, 'data-port': p.name },
      el('caption', { text: `${p.name} ${p.protocol} ${p.clusterIP}:${p.port}` }),
      el('thead', {}, el('tr', {}, el('th', { text: 'Table' }), el('th', { text: 'Chain / set' }), el('th', { text: 'Rule' }), el('th', { text: 'Leads to' }))),
      el('tbody', {}, ...p.rules.map((x) => el('tr', { 'data-endpoint': x.endpoint }, el('td', { text: x.table }), el('td', { text: x.chain }), el('td', { class: 'rule', text: x.rule }), el('td', { text: x.endpoint || '' }))))))]));
}

// ---- node and pod ----
async function loadPod() {
  const [ns, name] = state.podKey.split('/');
  const r = await fetch(`/ui/api/pod?namespace=${encodeURIComponent(ns)}&name=${encodeURIComponent(name)}`);
  const p = await r.json();
  state.podLogs = r.ok ? p.logs : { error: p.message };
  render();
}
function renderPod() {
  $('nodes').tBodies[0].replaceChildren(...[...state.node.values()].map((n) => el('tr', { 'data-node': n.name }, el('td', { text: n.name }), el('td', { text: n.ready ? 'Ready' : 'NotReady' }), el('td', { text: n.ip || '' }), el('td', { text: n.podCIDR || '' }))));
  if (!state.podKey) return;
  const p = state.pod.get(state.podKey);
  $('pod-title').textContent = state.podKey;
  if (!p) { $('pod-body').replaceChildren(el('p', { text: 'This pod is gone.' })); return; }
  const logs = state.podLogs || {};
  $('pod-body').replaceChildren(
    el('table', { class: 'grid', 'data-pod-detail': state.podKey },
      el('tr', {}, el('th', { text: 'Phase' }), el('td', { 'data-field': 'phase', text: `${p.phase || ''}${p.terminating ? ' (terminating)' : ''}` })),
      el('tr', {}, el('th', { text: 'IP' }), el('td', { 'data-field': 'ip', text: p.ip || '' })),
      el('tr', {}, el('th', { text: 'Node' }), el('td', { 'data-field': 'node', text: p.node || '' })),
      el('tr', {}, el('th', { text: 'Ready' }), el('td', { text: String(p.ready) }))),
    ...p.containers.map((c) => el('div', {},
      el('h3', { text: `container ${c.name} (${c.image}): ${c.state}${c.reason ? ` ${c.reason}` : ''}, ${c.restarts} restarts` }),
      el('pre', { class: 'log', text: logs[c.name] ?? logs.error ?? '' }))),
    el('button', { onclick: loadPod, text: 'Reload logs' }));
}

document.addEventListener('DOMContentLoaded', () => {
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('search').addEventListener('input', (e) => { state.search = e.target.value; $('list').scrollTop = 0; schedule(); });
  $('list').addEventListener('scroll', schedule);
  window.addEventListener('resize', schedule);
  setInterval(schedule, 1000);
  connect();
});
