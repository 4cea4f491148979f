// Mesh's live topology page: reads the REST API every POLL_MS and draws gateways, links and services with
// cytoscape. Every text it shows goes through textContent or a cytoscape label (a canvas): names come from
// the mesh config, and none is ever parsed as HTML.
'use strict';
(() => {
  const POLL_MS = 1500;
  const TOKEN_KEY = 'mesh-api-token';
  const EVENTS_SHOWN = 20;
  const $ = id => document.getElementById(id);

  class Unauthorized extends Error {}

  /** GET a /v1 endpoint as JSON, with the token the user gave (if any). */
  async function api(path) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (r.status === 401) throw new Unauthorized();
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch { /* not problem+json */ }
      throw new Error(`${path}: ${r.status} ${detail}`);
    }
    return r.json();
  }

  /** An element with text (never HTML) and optional classes. */
  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  function row(cells, className, name) {
    const tr = el('tr', null, className);
    if (name !== undefined) tr.dataset.name = name;
    for (const c of cells) tr.append(c instanceof Node ? c : el('td', c));
    return tr;
  }

  const shortVersion = v => (v ? v.split('+')[0] : '-');   // 0.7.0+COMMIT: the commit in the cell's title
  const time = iso => iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '-';
  const linkKey = (a, b) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  /** Link cost is the round trip in 5 ms steps (at least 1): docs/link-protocol.md. */
  const roundTrip = cost => (cost <= 1 ? '≤ 5 ms' : `≈ ${Math.round(cost * 5)} ms`);

  /** The links the config declares: every gateway dials every core gateway, and edges dial the edges that accept links. */
  function declaredLinks(gateways) {
    const keys = new Set();
    for (const a of gateways)
      for (const b of gateways)
        if (a.name !== b.name && (b.core || (!a.core && b.links.length > 0))) keys.add(linkKey(a.name, b.name));
    return keys;
  }

  // ---- the graph ----
  const cy = cytoscape({
    container: $('graph'),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'font-size': 12, color: '#1a202c',
        'text-valign': 'bottom', 'text-margin-y': 4, 'border-width': 2, 'border-color': '#fff' } },
      { selector: 'node.gateway', style: { shape: 'round-rectangle', width: 46, height: 32, 'background-color': '#2c5282' } },
      { selector: 'node.gateway.edge', style: { shape: 'ellipse', 'background-color': '#319795' } },
      { selector: 'node.gateway.lost', style: { 'background-color': '#a0aec0', 'border-style': 'dashed', 'border-color': '#4a5568' } },
      { selector: 'node.service', style: { shape: 'diamond', width: 22, height: 22, 'font-size': 11, 'background-color': '#a0aec0' } },
      { selector: 'node.service.up', style: { 'background-color': '#38a169' } },
      { selector: 'node.service.down', style: { 'background-color': '#e53e3e', color: '#c53030', 'font-weight': 'bold' } },
      { selector: 'edge', style: { 'curve-style': 'bezier', width: 3, 'line-color': '#4a5568', label: 'data(label)',
        'font-size': 10, 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-rotation': 'autorotate' } },
      { selector: 'edge.idle', style: { 'line-style': 'dashed', 'line-color': '#cbd5e0', width: 2 } },
      { selector: 'edge.owns', style: { 'line-style': 'dotted', 'line-color': '#a0aec0', width: 1.5 } },
      { selector: 'node.on-path', style: { 'border-color': '#dd6b20', 'border-width': 5 } },
      { selector: 'node.service.on-path', style: { 'border-width': 3 } },
      { selector: 'edge.on-path', style: { 'line-color': '#dd6b20', width: 6, 'z-index': 10 } },
    ],
  });
  window.meshTopology = { cy };   // for the browser's console and the end-to-end test

  /** Brings the graph to the wanted elements; lays it out again only when elements came or went. */
  function draw(wanted) {
    let changed = false;
    cy.batch(() => {
      const ids = new Set(wanted.map(w => w.data.id));
      cy.elements().filter(e => !ids.has(e.id())).forEach(e => { changed = true; e.remove(); });
      for (const w of wanted) {   // nodes come first in wanted, so an edge's ends exist when it is added
        const e = cy.getElementById(w.data.id);
        if (e.empty()) { cy.add({ group: w.group, data: w.data, classes: w.classes }); changed = true; }
        else { e.data(w.data); e.classes(w.classes); }
      }
    });
    if (!changed) return;
    // layers: core gateways on top, the edges below them, each service under its owner
    cy.layout({ name: 'breadthfirst', roots: cy.nodes('.core'), animate: false, padding: 30, spacingFactor: 1.1 }).run();
    if (cy.zoom() > 1.3) { cy.zoom(1.3); cy.center(); }   // a small mesh is not drawn huge
  }

  function graphOf(m, path) {
    const onPath = new Set(path?.hops ?? []);
    const pathLinks = new Set((path?.hops ?? []).slice(1).map((h, i) => linkKey(path.hops[i], h)));
    const used = new Map(m.links.map(l => [linkKey(l.a, l.b), l]));
    const nodes = m.gateways.map(g => ({ group: 'nodes',
      data: { id: `g:${g.name}`, label: g.name },
      classes: ['gateway', g.core ? 'core' : 'edge', g.connected ? 'connected' : 'lost', onPath.has(g.name) ? 'on-path' : ''].join(' ') }));
    const known = new Set(m.gateways.map(g => g.name));
    for (const s of m.services)
      nodes.push({ group: 'nodes', data: { id: `s:${s.name}`, label: s.name },
        classes: ['service', s.health, path?.service === s.name ? 'on-path' : ''].join(' ') });
    const edges = [];
    for (const key of new Set([...declaredLinks(m.gateways), ...used.keys()])) {
      const [a, b] = key.split('|');
      if (!known.has(a) || !known.has(b)) continue;
      const l = used.get(key);
      edges.push({ group: 'edges', data: { id: `l:${key}`, source: `g:${a}`, target: `g:${b}`, label: l ? roundTrip(l.cost) : '' },
        classes: [l ? 'link' : 'idle', pathLinks.has(key) ? 'on-path' : ''].join(' ') });
    }
    for (const s of m.services)
      if (known.has(s.owner))
        edges.push({ group: 'edges', data: { id: `o:${s.name}`, source: `g:${s.owner}`, target: `s:${s.name}`, label: '' }, classes: 'owns' });
    return [...nodes, ...edges];
  }

  // ---- the relay path: next hops from the chosen gateway to the service's owner ----
  async function walk(from, service, m) {
    const owner = m.services.find(s => s.name === service)?.owner;
    if (!owner) return { hops: [], service, error: `no service ${service}` };
    const hops = [from];
    for (let at = from; at !== owner;) {
      if (hops.length > m.gateways.length) return { hops, service, error: 'the next hops go round in a loop' };
      let table;
      try { table = await api(`/v1/routes/${encodeURIComponent(at)}`); }
      catch (e) { if (e instanceof Unauthorized) throw e; return { hops, service, error: e.message }; }   // the rest is still drawn
      const hop = (table.nextHops || []).find(h => h.destination === owner);
      if (!hop) return { hops, service, error: `${at} has no route to ${owner}` };
      at = hop.via;
      hops.push(at);
    }
    return { hops, service };
  }

  function describe(path) {
    if (!path) return 'Choose an entry below, or a gateway and a service: the gateways its flows cross are highlighted.';
    const route = path.hops.join(' → ');
    if (path.error) return route ? `${route}: ${path.error}` : path.error;
    const relays = path.hops.slice(1, -1);
    const owner = path.hops[path.hops.length - 1];
    if (path.hops.length === 1) return `${owner} owns ${path.service}: its flows stay on ${owner}`;
    return `${route} (owner of ${path.service}): ${relays.length ? `relayed by ${relays.join(', ')}` : 'direct'}`;
  }

  function fillSelect(select, names) {
    const wanted = ['', ...names];
    const have = [...select.options].map(o => o.value);
    if (have.join('\n') === wanted.join('\n')) return;
    const chosen = select.value;
    select.replaceChildren(el('option', select.options[0]?.textContent ?? ''), ...names.map(n => el('option', n)));
    select.options[0].value = '';
    select.value = names.includes(chosen) ? chosen : '';
  }

  // ---- the tables ----
  function render(m, path) {
    const down = m.services.filter(s => s.health === 'down').length;
    $('summary').textContent = `${m.gateways.length} gateways (${m.gateways.filter(g => g.connected).length} connected) · `
      + `${m.services.length} services (${down} down) · ${m.entries.length} entries · ${m.links.length} links`;
    $('gateways').replaceChildren(...m.gateways.map(g => {
      const version = el('td', shortVersion(g.version));
      if (g.version) version.title = g.version;
      return row([g.name, g.core ? 'core' : 'edge',
        g.connected ? `connected since ${time(g.since)}` : `not connected (last seen ${time(g.lastSeen)})`, version],
      g.connected ? 'connected' : 'lost', g.name);
    }));
    $('services').replaceChildren(...m.services.map(s => {
      const health = el('td', s.health);
      if (s.healthReason) health.title = s.healthReason;
      return row([s.name, s.owner, s.check, health], s.health, s.name);
    }));
    $('entries').replaceChildren(...m.entries.map(e => {
      const tr = row([e.gateway, e.listen, e.service], 'entry', `${e.gateway} ${e.listen}`);
      tr.title = 'show the relay path of this entry';
      if (path && path.hops[0] === e.gateway && path.service === e.service) tr.classList.add('chosen');
      tr.addEventListener('click', () => choose(e.gateway, e.service));
      return tr;
    }));
    $('links').replaceChildren(...m.links.map(l => row([`${l.a} ↔ ${l.b}`, l.cost, roundTrip(l.cost)], 'link')));
    $('events').replaceChildren(...m.events.slice(-EVENTS_SHOWN).reverse().map(e => {
      const li = el('li', null, e.level);
      li.append(el('time', time(e.at)), el('span', e.kind, 'kind'), el('span', e.message));
      return li;
    }));
    fillSelect($('path-from'), m.gateways.map(g => g.name));
    fillSelect($('path-service'), m.services.map(s => s.name));
    $('path-text').textContent = describe(path);
    $('path-text').className = path?.error ? 'error' : '';
  }

  // ---- polling and signing in: one refresh at a time; a choice made during one runs another right after ----
  let timer = null;
  let running = false;
  let again = false;
  let last = null;

  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    clearTimeout(timer);
    try {
      const [gateways, links, services, entries, events] = await Promise.all(
        ['/v1/gateways', '/v1/links', '/v1/services', '/v1/entries', `/v1/events?limit=${EVENTS_SHOWN}`].map(api));
      const m = { gateways, links, services, entries, events };
      const from = $('path-from').value, service = $('path-service').value;
      const path = from && service && gateways.some(g => g.name === from) ? await walk(from, service, m) : null;
      last = m;
      $('login').hidden = true;
      $('view').hidden = false;
      cy.resize();
      draw(graphOf(m, path));
      render(m, path);
      $('sign-out').hidden = !sessionStorage.getItem(TOKEN_KEY);
      status(`updated ${time(new Date().toISOString())}`, 'ok');
    } catch (e) {
      if (e instanceof Unauthorized) {
        running = again = false;
        return signIn(sessionStorage.getItem(TOKEN_KEY) ? 'the API refused this token' : '');
      }
      status(`${last ? 'showing the last answer: ' : ''}${e.message}`, 'error');
    }
    running = false;
    timer = setTimeout(refresh, again ? 0 : POLL_MS);
    again = false;
  }

  function status(text, className) {
    $('status').textContent = text;
    $('status').className = className;
  }

  function signIn(error) {
    clearTimeout(timer);
    sessionStorage.removeItem(TOKEN_KEY);
    $('view').hidden = true;
    $('sign-out').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = error;
    status('reads need a token', 'error');
    $('token').focus();
  }

  function choose(from, service) {
    $('path-from').value = from;
    $('path-service').value = service;
    refresh();
  }

  $('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    refresh();
  });
  $('sign-out').addEventListener('click', () => signIn(''));
  for (const id of ['path-from', 'path-service']) $(id).addEventListener('change', () => choose($('path-from').value, $('path-service').value));
  cy.on('tap', 'node.gateway', ev => choose(ev.target.id().slice(2), $('path-service').value));
  cy.on('tap', 'node.service', ev => choose($('path-from').value, ev.target.id().slice(2)));
  refresh();
})();
