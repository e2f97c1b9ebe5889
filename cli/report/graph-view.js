// The report's graph view (plain browser JavaScript, inlined by cli/report/html.ts): a graph of the
// inspection document laid out by dagre and drawn as SVG; pan (drag), zoom (wheel), layers that
// collapse into one box and expand into their ops, search by name, click to select.
/* global dagre */
'use strict';

var SVG_NS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs) {
  var e = document.createElementNS(SVG_NS, tag);
  for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
  return e;
}

/** Which box a node is drawn in: its own, or its layer's (per phase, so a layer's backward stays apart) while collapsed. */
function unitKeyOf(node, expanded) {
  if (node.layer === undefined || expanded.has(layerKey(node))) return 'n' + node.id;
  return 'l' + layerKey(node);
}

function layerKey(node) {
  return (node.phase === 'forward' ? '' : node.phase + ':') + node.layer;
}

function shapeText(node) {
  var s = node.userShape || node.shape;
  return node.dtype + '[' + s.join(', ') + ']';
}

/** Whether a node answers the search text: its id (%12), op, layer or name attribute. */
function nodeMatches(node, q) {
  var name = node.attrs && typeof node.attrs.name === 'string' ? node.attrs.name : '';
  return ('%' + node.id).toLowerCase() === q || node.op.toLowerCase().indexOf(q) >= 0 || (node.layer || '').toLowerCase().indexOf(q) >= 0 || name.toLowerCase().indexOf(q) >= 0;
}

/**
 * A graph view in `container` of `graph` (a DocGraph). options: { collapsed: start with layers
 * collapsed, onSelect(selection) with { kind: 'node', node } or { kind: 'layer', key, layer, nodes } }.
 */
function createGraphView(container, graph, options) {
  var expanded = new Set();
  var byId = new Map(graph.nodes.map(function (n) { return [n.id, n]; }));
  if (!options.collapsed) graph.nodes.forEach(function (n) { if (n.layer !== undefined) expanded.add(layerKey(n)); });
  var svg = svgEl('svg', { class: 'graph', width: '100%', height: '100%' });
  var viewport = svgEl('g', { class: 'viewport' });
  svg.appendChild(viewport);
  container.appendChild(svg);
  var view = { x: 0, y: 0, k: 1 };
  var query = '';
  var selected = null;
  var boxes = new Map();
  var size = { width: 0, height: 0 };

  function apply() {
    viewport.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
  }

  function units() {
    var list = [];
    var byKey = new Map();
    graph.nodes.forEach(function (n) {
      var key = unitKeyOf(n, expanded);
      var u = byKey.get(key);
      if (!u) {
        u = { key: key, nodes: [], layer: key[0] === 'l' ? n.layer : undefined, phase: n.phase };
        byKey.set(key, u);
        list.push(u);
      }
      u.nodes.push(n);
    });
    return { list: list, byKey: byKey };
  }

  function label(u) {
    if (u.layer !== undefined) {
      var last = u.nodes[u.nodes.length - 1];
      return { title: u.layer + ' ▸', sub: (last.layerKind || last.op) + ' · ' + u.nodes.length + ' ops' + (u.phase !== 'forward' ? ' · ' + u.phase : '') };
    }
    var n = u.nodes[0];
    var name = n.op === 'input' || n.op === 'param' ? String(n.attrs.name) : n.layer !== undefined ? n.layer : '%' + n.id;
    return { title: n.op + ' ' + name, sub: shapeText(n) };
  }

  function draw() {
    var us = units();
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 28, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(function () { return {}; });
    us.list.forEach(function (u) {
      var l = label(u);
      u.label = l;
      g.setNode(u.key, { width: Math.max(l.title.length, l.sub.length) * 6.6 + 20, height: 38 });
    });
    var seen = new Set();
    graph.nodes.forEach(function (n) {
      var to = unitKeyOf(n, expanded);
      n.inputs.forEach(function (i) {
        var from = unitKeyOf(byId.get(i), expanded);
        var key = from + '>' + to;
        if (from === to || seen.has(key)) return;
        seen.add(key);
        g.setEdge(from, to);
      });
    });
    dagre.layout(g);
    while (viewport.firstChild) viewport.removeChild(viewport.firstChild);
    boxes = new Map();
    g.edges().forEach(function (e) {
      var pts = g.edge(e).points;
      var d = pts.map(function (p, i) { return (i ? 'L' : 'M') + p.x.toFixed(1) + ',' + p.y.toFixed(1); }).join(' ');
      viewport.appendChild(svgEl('path', { class: 'edge', d: d, 'marker-end': 'url(#arrow)' }));
    });
    us.list.forEach(function (u) {
      var box = g.node(u.key);
      var cls = 'node ' + (u.layer !== undefined ? 'layer' : 'op op-' + u.nodes[0].op) + ' phase-' + u.phase;
      var el = svgEl('g', { class: cls, 'data-key': u.key, transform: 'translate(' + (box.x - box.width / 2) + ',' + (box.y - box.height / 2) + ')' });
      el.appendChild(svgEl('rect', { width: box.width, height: box.height, rx: u.layer !== undefined ? 8 : 3 }));
      var t1 = svgEl('text', { x: 8, y: 15, class: 'title' });
      t1.textContent = u.label.title;
      var t2 = svgEl('text', { x: 8, y: 30, class: 'sub' });
      t2.textContent = u.label.sub;
      el.appendChild(t1);
      el.appendChild(t2);
      el.addEventListener('click', function (ev) { ev.stopPropagation(); select(u.key); });
      el.addEventListener('dblclick', function (ev) { ev.stopPropagation(); if (u.layer !== undefined) toggle(layerKey(u.nodes[0])); });
      viewport.appendChild(el);
      boxes.set(u.key, { el: el, unit: u, box: box });
    });
    var defs = svgEl('defs', {});
    var marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' });
    marker.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
    defs.appendChild(marker);
    viewport.insertBefore(defs, viewport.firstChild);
    size = { width: g.graph().width || 0, height: g.graph().height || 0 };
    if (selected && !boxes.has(selected)) selected = null;
    if (selected) boxes.get(selected).el.classList.add('selected');
    highlight();
  }

  function fit() {
    var w = container.clientWidth || 600;
    var h = container.clientHeight || 400;
    var k = Math.min(1.2, w / (size.width || 1), h / (size.height || 1));
    view = { k: k, x: (w - size.width * k) / 2, y: Math.max(0, (h - size.height * k) / 2) };
    apply();
  }

  function centerOn(key) {
    var b = boxes.get(key);
    if (!b) return;
    var w = container.clientWidth || 600;
    var h = container.clientHeight || 400;
    view.k = Math.max(view.k, 0.8);
    view.x = w / 2 - b.box.x * view.k;
    view.y = h / 2 - b.box.y * view.k;
    apply();
  }

  function highlight() {
    boxes.forEach(function (b) {
      var hit = query !== '' && b.unit.nodes.some(function (n) { return nodeMatches(n, query); });
      b.el.classList.toggle('match', hit);
      b.el.classList.toggle('dim', query !== '' && !hit);
    });
  }

  function select(key) {
    if (selected && boxes.has(selected)) boxes.get(selected).el.classList.remove('selected');
    selected = key;
    var b = boxes.get(key);
    if (!b) return;
    b.el.classList.add('selected');
    var u = b.unit;
    if (u.layer !== undefined) options.onSelect({ kind: 'layer', key: layerKey(u.nodes[0]), layer: u.layer, phase: u.phase, nodes: u.nodes });
    else options.onSelect({ kind: 'node', node: u.nodes[0] });
  }

  /** Expands or collapses a layer, then centers what it became (its first op, or its box). */
  function toggle(key) {
    var opening = !expanded.has(key);
    if (opening) expanded.add(key);
    else expanded.delete(key);
    draw();
    var first = graph.nodes.filter(function (n) { return n.layer !== undefined && layerKey(n) === key; })[0];
    if (first) centerOn(opening ? 'n' + first.id : 'l' + key);
  }

  // Pan by dragging the background, zoom with the wheel around the pointer.
  var drag = null;
  svg.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX - view.x, y: ev.clientY - view.y }; svg.classList.add('panning'); });
  window.addEventListener('mousemove', function (ev) { if (drag) { view.x = ev.clientX - drag.x; view.y = ev.clientY - drag.y; apply(); } });
  window.addEventListener('mouseup', function () { drag = null; svg.classList.remove('panning'); });
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    var px = ev.clientX - r.left;
    var py = ev.clientY - r.top;
    var k = Math.min(4, Math.max(0.05, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    apply();
  }, { passive: false });

  draw();
  fit();
  return {
    svg: svg,
    fit: fit,
    select: select,
    expandAll: function () { graph.nodes.forEach(function (n) { if (n.layer !== undefined) expanded.add(layerKey(n)); }); draw(); fit(); },
    collapseAll: function () { expanded.clear(); draw(); fit(); },
    toggleLayer: function (key) { toggle(key); },
    isExpanded: function (key) { return expanded.has(key); },
    /** Highlights the boxes whose nodes match; returns how many; centers the first. */
    search: function (text) {
      query = String(text).trim().toLowerCase();
      highlight();
      var first = null;
      var count = 0;
      boxes.forEach(function (b, key) { if (b.el.classList.contains('match')) { count++; if (first === null) first = key; } });
      if (first !== null) centerOn(first);
      return count;
    },
    /** Expands the layer holding node `id` if need be, then selects and centers it. */
    reveal: function (id) {
      var n = byId.get(id);
      if (!n) return;
      if (n.layer !== undefined && !expanded.has(layerKey(n))) { expanded.add(layerKey(n)); draw(); }
      select('n' + id);
      centerOn('n' + id);
    },
  };
}
