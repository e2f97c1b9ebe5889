// The report page (plain browser JavaScript, inlined by cli/report/html.ts after graph-view.js):
// reads the embedded inspection document and profile, and builds the graphs, the details panel,
// the layer table, bar charts, the training step's optimizer state and memory plan, and timings.
// Everything from the document reaches the page as text nodes (textContent), never as HTML.
/* global createGraphView */
'use strict';

(function () {
  var data = JSON.parse(document.getElementById('kiln-data').textContent);
  var doc = data.doc;
  var profile = data.profile;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function count(n) {
    return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function bytes(n) {
    if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + ' GiB';
    if (n >= 1 << 20) return (n / (1 << 20)).toFixed(2) + ' MiB';
    if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
    return n + ' B';
  }

  function shape(s) {
    return '[' + s.join(', ') + ']';
  }

  function table(headers, rows, cls) {
    return el('table', { class: cls || '' }, [
      el('thead', null, [el('tr', null, headers.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', null, rows.map(function (r) { return el('tr', null, r.map(function (c) { return el('td', { text: String(c) }); })); })),
    ]);
  }

  /** A horizontal bar chart: one row per item, bar width proportional to its value. */
  function barChart(title, items, format) {
    var max = Math.max.apply(null, items.map(function (i) { return i.value; }).concat([0]));
    return el('div', { class: 'chart' }, [
      el('h3', { text: title }),
      el('div', { class: 'bars' }, items.map(function (i) {
        var pct = max > 0 ? (100 * i.value) / max : 0;
        return el('div', { class: 'bar-row' }, [
          el('span', { class: 'bar-label', text: i.label, title: i.label }),
          el('span', { class: 'bar-track' }, [el('span', { class: 'bar', style: 'width:' + pct.toFixed(2) + '%' })]),
          el('span', { class: 'bar-value', text: format(i.value) }),
        ]);
      })),
    ]);
  }

  var timeOf = new Map();
  if (profile) profile.kernels.forEach(function (k) { timeOf.set(k.name, k); });

  // ---- header and toolbar
  var totals = doc.totals;
  document.body.appendChild(el('header', null, [
    el('h1', { text: doc.model }),
    el('p', { class: 'meta', text: 'stage ' + doc.stage + ' · layout ' + doc.layout + ' · ' + count(totals.params) + ' parameters · ' + count(totals.flops) + ' FLOPs per sample · graph ' + doc.graphHash.slice(0, 12) + ' · Kiln ' + data.compilerVersion + ' · document v' + doc.version }),
  ]));
  var search = el('input', { type: 'search', id: 'search', placeholder: 'Search nodes and layers by name, op or %id', 'aria-label': 'search' });
  var found = el('span', { id: 'search-count', class: 'meta' });
  var toolbar = el('div', { class: 'toolbar' }, [search, found]);
  document.body.appendChild(toolbar);

  // ---- graphs and details
  var details = el('aside', { id: 'details' }, [el('p', { class: 'meta', text: 'Click a node or a layer. Double-click a layer to expand it; drag to pan, wheel to zoom.' })]);
  var graphs = el('div', { class: 'graphs' });
  document.body.appendChild(el('main', null, [graphs, details]));
  var views = [];

  function panel(id, title, graph, collapsed, container) {
    var box = el('div', { class: 'graph-box' });
    var buttons = el('div', { class: 'panel-tools' });
    var section = el('section', { class: 'panel', id: id }, [el('h2', { text: title }), buttons, box]);
    (container || graphs).appendChild(section);
    var view = createGraphView(box, graph, { collapsed: collapsed, onSelect: function (s) { showDetails(view, graph, s); } });
    buttons.appendChild(el('button', { text: 'Expand all', class: 'expand-all', onclick: function () { view.expandAll(); } }));
    buttons.appendChild(el('button', { text: 'Collapse all', class: 'collapse-all', onclick: function () { view.collapseAll(); } }));
    buttons.appendChild(el('button', { text: 'Fit', onclick: function () { view.fit(); } }));
    views.push(view);
    return view;
  }

  function kernelSource(kernel) {
    var src = kernel.source;
    if (!src) return el('p', { class: 'meta', text: 'No emitted source in this report.' });
    var tabs = [['JavaScript', src.js], ['WebAssembly text', src.wasm], ['GPU.js', src.gpujs]].filter(function (t) { return typeof t[1] === 'string'; });
    var pre = el('pre', { class: 'source' });
    var bar = el('div', { class: 'tabs' });
    tabs.forEach(function (t, i) {
      var b = el('button', { text: t[0], class: 'tab' + (i === 0 ? ' active' : ''), onclick: function () {
        pre.textContent = t[1];
        Array.prototype.forEach.call(bar.children, function (c) { c.classList.remove('active'); });
        b.classList.add('active');
      } });
      bar.appendChild(b);
    });
    pre.textContent = tabs.length ? tabs[0][1] : '';
    return el('div', { class: 'kernel-source' }, [bar, pre]);
  }

  function kernelDetails(graph, name) {
    var k = graph.kernels.filter(function (x) { return x.name === name; })[0];
    if (!k) return null;
    var rows = [['kernel', k.name], ['computes', k.description], ['layers', k.layers.join(', ')], ['output', k.dtype + shape(k.shape)], ['FLOPs per sample', count(k.flops) + (k.loop !== undefined ? ' each step (loop ' + k.loop + ')' : '')], ['WebAssembly SIMD', k.backends.wasmSimd ? 'yes' : 'no']];
    var t = timeOf.get(k.name);
    if (t) rows.push(['time per call', t.ms.toFixed(3) + ' ms (' + (100 * t.share).toFixed(1) + ' %), ' + t.gflops.toFixed(2) + ' GFLOP/s']);
    return el('div', { class: 'kernel' }, [el('h3', { text: 'Fusion group ' + k.name }), definition(rows), kernelSource(k)]);
  }

  function definition(rows) {
    return el('dl', null, rows.reduce(function (acc, r) { acc.push(el('dt', { text: r[0] }), el('dd', { text: r[1] })); return acc; }, []));
  }

  function showDetails(view, graph, s) {
    while (details.firstChild) details.removeChild(details.firstChild);
    if (s.kind === 'node') {
      var n = s.node;
      var rows = [['node', '%' + n.id], ['op', n.op], ['layer', n.layer || '—'], ['phase', n.phase], ['dtype', n.dtype], ['shape', shape(n.userShape || n.shape) + (n.userShape ? ' (Kiln: ' + shape(n.shape) + ')' : '')],
        ['parameters', count(n.params)], ['FLOPs per sample', count(n.flops)], ['bytes per sample', bytes(n.bytes)], ['source', n.source || '—'], ['kernel', n.kernel || '— (no kernel: a view, input, parameter or folded value)'],
        ['inputs', n.inputs.map(function (i) { return '%' + i; }).join(', ') || '—']];
      details.appendChild(el('h2', { text: n.op + (n.layer ? ' · ' + n.layer : '') }));
      details.appendChild(definition(rows));
      details.appendChild(el('h3', { text: 'Attributes' }));
      details.appendChild(el('pre', { class: 'attrs', text: JSON.stringify(n.attrs, null, 2) }));
      if (n.layer !== undefined) details.appendChild(el('button', { text: 'Collapse layer ' + n.layer, onclick: function () { view.toggleLayer((n.phase === 'forward' ? '' : n.phase + ':') + n.layer); } }));
      if (n.kernel) details.appendChild(kernelDetails(graph, n.kernel));
      return;
    }
    var row = doc.layers.filter(function (l) { return l.name === s.layer; })[0];
    details.appendChild(el('h2', { text: 'Layer ' + s.layer + (s.phase !== 'forward' ? ' (' + s.phase + ')' : '') }));
    if (row && s.phase === 'forward') details.appendChild(definition([['kind', row.kind], ['output shape', shape(row.outputShape)], ['parameters', count(row.params)], ['FLOPs per sample', count(row.flops)], ['activation bytes per sample', bytes(row.activationBytes || 0)], ['connected to', (row.connectedTo || []).join(', ') || '—']]));
    details.appendChild(el('button', { text: 'Expand into its ' + s.nodes.length + ' ops', class: 'expand-layer', onclick: function () { view.toggleLayer(s.key); } }));
    details.appendChild(el('ul', { class: 'ops' }, s.nodes.map(function (n) {
      return el('li', null, [el('a', { href: '#', text: '%' + n.id + ' ' + n.op + ' ' + shape(n.shape), onclick: function (ev) { ev.preventDefault(); view.reveal(n.id); } })]);
    })));
  }

  var forward = panel('forward', doc.training ? 'Forward graph (' + doc.stage + ')' : 'Graph (' + doc.stage + ')', doc, true);
  if (doc.training) panel('training', 'Training step: forward, backward, optimizer (' + doc.training.optimizer + ')', doc.training, true);
  // Each scan's body is a graph of its own (the scan's node shows only a summary of it), with its per-step kernels.
  var loopGraphs = el('div', { class: 'loop-graphs' });
  function loopPanels(prefix, graph, what) {
    (graph.loops || []).forEach(function (l) {
      var where = '%' + l.node + (l.parent === null ? '' : ' of loop ' + l.parent);
      var how = [l.steps + ' steps'].concat(l.reverse ? ['reversed'] : [], l.stack ? ['stacked'] : []).join(', ');
      var body = { nodes: l.nodes, inputs: l.inputs, outputs: l.outputs, kernels: graph.kernels.filter(function (k) { return k.loop === l.id; }) };
      panel(prefix + '-loop-' + l.id, what + 'loop ' + l.id + ': body of scan ' + where + ' (' + how + ')', body, false, loopGraphs);
    });
  }
  loopPanels('forward', doc, doc.training ? 'Forward graph, ' : '');
  if (doc.training) loopPanels('training', doc.training, 'Training step, ');
  if (loopGraphs.firstChild) document.body.appendChild(loopGraphs);
  // Fitted once every panel is in place (a second panel narrows the first), and again on resize.
  views.forEach(function (v) { v.fit(); });
  window.addEventListener('resize', function () { views.forEach(function (v) { v.fit(); }); });

  search.addEventListener('input', function () {
    var n = views.reduce(function (s, v) { return s + v.search(search.value); }, 0);
    found.textContent = search.value.trim() ? n + ' found' : '';
  });

  // ---- layers, charts
  var sections = el('div', { class: 'sections' });
  document.body.appendChild(sections);
  var layerTime = new Map();
  if (profile) profile.layers.forEach(function (l) { layerTime.set(l.layer, l); });
  var headers = ['Layer', 'Kind', 'Output shape', 'Parameters', 'FLOPs/sample', 'Activation/sample', 'Connected to'].concat(profile ? ['ms/call', 'Share'] : []);
  sections.appendChild(el('section', { id: 'layers' }, [el('h2', { text: 'Layers' }), table(headers, doc.layers.map(function (l) {
    var t = layerTime.get(l.name);
    return [l.name, l.kind, shape(l.outputShape), count(l.params), count(l.flops), bytes(l.activationBytes || 0), (l.connectedTo || []).join(', ')].concat(profile ? [t ? t.ms.toFixed(3) : '—', t ? (100 * t.share).toFixed(1) + ' %' : '—'] : []);
  }), 'layers')]));
  var charts = el('section', { id: 'charts', class: 'charts' }, [el('h2', { text: 'Per layer' })]);
  sections.appendChild(charts);
  function perLayer(key) { return doc.layers.map(function (l) { return { label: l.name, value: l[key] || 0 }; }); }
  charts.appendChild(barChart('FLOPs per sample', perLayer('flops'), count));
  charts.appendChild(barChart('Parameters', perLayer('params'), count));
  charts.appendChild(barChart('Activation memory per sample', perLayer('activationBytes'), bytes));
  if (profile) charts.appendChild(barChart('Time per call (ms, batch ' + profile.batch + ')', profile.layers.map(function (l) { return { label: l.layer, value: l.ms }; }), function (v) { return v.toFixed(3); }));

  // ---- memory over time
  function memoryChart(title, memory) {
    var live = memory.perKernel.map(function (l) { return { label: l.kernel, value: l.bytesPerSample * memory.batch + l.fixedBytes }; });
    // What is alive at each kernel: the results (and loops' buffers) whose lifetime covers it.
    var aliveAt = live.map(function (_, i) { return (memory.lifetimes || []).filter(function (l) { return l.first <= i && i <= l.last; }).map(function (l) { return l.name; }); });
    var section = el('section', { class: 'memory' }, [el('h2', { text: title }), el('p', { class: 'meta', text: 'At batch ' + memory.batch + ': parameters ' + bytes(memory.parameterBytes) + '; peak of kernel results ' + bytes(memory.peak.bytes) + (memory.peak.kernel ? ' while ' + memory.peak.kernel + ' runs' : '') + '. Click a kernel to see what is alive.' })]);
    var max = Math.max.apply(null, live.map(function (l) { return l.value; }).concat([1]));
    var alive = el('p', { class: 'alive meta' });
    var cols = el('div', { class: 'timeline' }, live.map(function (l, i) {
      var c = el('span', { class: 'col' + (l.label === memory.peak.kernel ? ' peak' : ''), title: l.label + ': ' + bytes(l.value), style: 'height:' + ((100 * l.value) / max).toFixed(2) + '%' });
      c.addEventListener('click', function () { alive.textContent = l.label + ' (' + bytes(l.value) + '): alive ' + (aliveAt[i] || []).join(', '); });
      return c;
    }));
    section.appendChild(cols);
    section.appendChild(alive);
    return section;
  }

  sections.appendChild(memoryChart('Memory plan over time (inference)', doc.memory));
  if (doc.training) {
    var t = doc.training;
    sections.appendChild(el('section', { id: 'optimizer' }, [el('h2', { text: 'Optimizer state (' + t.optimizer + ')' }),
      table(['State', 'Shape', 'Bytes'], t.state.map(function (s) { return [s.name, shape(s.shape), bytes(s.bytes)]; }), 'state')]));
    sections.appendChild(memoryChart('Memory plan over time (training step)', t.memory));
  }

  // ---- profile
  if (profile) {
    sections.appendChild(el('section', { id: 'profile' }, [
      el('h2', { text: 'Time per kernel (' + (profile.train ? 'training step' : 'predict') + ', batch ' + profile.batch + ', ' + profile.backend + ', mean of ' + profile.runs + ' calls)' }),
      el('p', { class: 'meta', text: 'Call ' + profile.callMs.toFixed(3) + ' ms; kernels ' + profile.kernelMs.toFixed(3) + ' ms.' }),
      table(['Kernel', 'Ops', 'Layers', 'ms/call', 'Share', 'FLOPs', 'GFLOP/s'], profile.kernels.slice().sort(function (a, b) { return b.ms - a.ms; }).map(function (k) {
        var ops = k.steps !== undefined ? 'scan, ' + k.steps + ' steps: copies between steps' : k.ops.join(' → ') + (k.loop ? ' (in ' + k.loop + ')' : '');
        return [k.name, ops, k.layers.join(', '), k.ms.toFixed(3), (100 * k.share).toFixed(1) + ' %', count(k.flops), k.gflops.toFixed(2)];
      }), 'kernels'),
    ]));
  }
  window.kilnReport = { views: views, forward: forward };
})();
