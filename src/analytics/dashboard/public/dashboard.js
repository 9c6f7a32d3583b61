// Nestream dashboard: plain browser JavaScript over the analytics API and GET /events/stream.
// Charts are Chart.js (UMD build served by the app); everything else is DOM built with textContent.
(() => {
  'use strict';

  const RANGE_MINUTES = 30;
  const FEED_MAX = 60;
  const MINUTE = 60_000;
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat('en-US');
  const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const compactMoney = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const minuteLabel = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });

  let hopping = null; // the configured hopping window, from GET /analytics/windows
  let received = 0;

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function replaceChildren(list, children, emptyText) {
    list.replaceChildren(...(children.length ? children : [el('li', 'empty', emptyText)]));
  }

  // ---- charts -------------------------------------------------------------------------------------

  Chart.defaults.color = color('--muted');
  Chart.defaults.borderColor = color('--grid');
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  const baseOptions = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 12, boxHeight: 12, usePointStyle: true, sort: (a, b) => a.datasetIndex - b.datasetIndex } } },
    scales: { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 16 } } },
  };

  const ordersChart = new Chart($('orders-chart'), {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { label: 'placed', data: [], backgroundColor: color('--blue'), borderRadius: 3, order: 2 },
        { label: 'cancelled', data: [], backgroundColor: color('--red'), borderRadius: 3, order: 3 },
        { type: 'line', label: 'hopping window', data: [], borderColor: color('--teal'), backgroundColor: color('--teal'),
          borderWidth: 2, pointRadius: 0, tension: 0.3, yAxisID: 'y', order: 1 },
      ],
    },
    options: { ...baseOptions, scales: { ...baseOptions.scales, y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });

  const revenueChart = new Chart($('revenue-chart'), {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        { label: 'revenue', data: [], borderColor: color('--blue'), backgroundColor: 'rgba(91, 156, 255, 0.18)', fill: true,
          borderWidth: 2, pointRadius: 0, tension: 0.3, yAxisID: 'y' },
        { label: 'avg order value', data: [], borderColor: color('--amber'), borderDash: [5, 4], borderWidth: 2,
          pointRadius: 0, tension: 0.3, spanGaps: true, yAxisID: 'aov' },
      ],
    },
    options: {
      ...baseOptions,
      scales: {
        ...baseOptions.scales,
        y: { beginAtZero: true, ticks: { callback: (v) => compactMoney.format(v) } },
        aov: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: (v) => compactMoney.format(v) } },
      },
    },
  });

  function range() {
    const to = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
    return { from: new Date(to - RANGE_MINUTES * MINUTE).toISOString(), to: new Date(to).toISOString() };
  }

  async function refreshSummary() {
    const { from, to } = range();
    const minutes = await getJson(`/analytics/summary?window=1m&top=0&from=${from}&to=${to}`);
    const labels = minutes.windows.map((w) => minuteLabel(Date.parse(w.start)));
    // A hopping window is drawn at its last minute: "orders in the N minutes up to here".
    let hop = [];
    if (hopping) {
      const h = await getJson(`/analytics/summary?window=${hopping.label}&top=0&from=${from}&to=${to}`);
      const byLastMinute = new Map(h.windows.map((w) => [Date.parse(w.end) - MINUTE, w.placed]));
      hop = minutes.windows.map((w) => byLastMinute.get(Date.parse(w.start)) ?? null);
    }
    ordersChart.data.labels = labels;
    ordersChart.data.datasets[0].data = minutes.windows.map((w) => w.placed);
    ordersChart.data.datasets[1].data = minutes.windows.map((w) => w.cancelled);
    ordersChart.data.datasets[2].data = hop;
    ordersChart.update();

    revenueChart.data.labels = labels;
    revenueChart.data.datasets[0].data = minutes.windows.map((w) => w.revenue);
    revenueChart.data.datasets[1].data = minutes.windows.map((w) => w.averageOrderValue);
    revenueChart.update();

    const t = minutes.totals;
    $('kpi-placed').textContent = number.format(t.placed);
    $('kpi-revenue').textContent = compactMoney.format(t.revenue);
    $('kpi-revenue').title = money.format(t.revenue);
    $('kpi-aov').textContent = t.averageOrderValue === null ? '–' : money.format(t.averageOrderValue);
    $('kpi-cancelled').textContent = number.format(t.cancelled);
    $('updated-at').textContent = `updated ${clock(new Date().toISOString())}`;
  }

  async function refreshTopProducts() {
    const label = hopping ? hopping.label : '1m';
    const top = await getJson(`/analytics/products/top?window=${label}&limit=6`);
    $('top-window').textContent = `${minuteLabel(Date.parse(top.window.start))}–${minuteLabel(Date.parse(top.window.end))} (${label})`;
    const max = Math.max(1, ...top.items.map((p) => p.placed));
    replaceChildren($('top-products'), top.items.map((p) => {
      const li = el('li', 'bar');
      li.append(el('span', 'name', p.product), el('span', 'figures', `${p.placed} · ${money.format(p.revenue)}`));
      const track = el('div', 'track');
      const fill = el('div', 'fill');
      fill.style.width = `${(100 * p.placed) / max}%`;
      track.append(fill);
      li.append(track);
      return li;
    }), 'No orders in this window yet.');
  }

  async function refreshAnomalies() {
    const page = await getJson('/analytics/anomalies?limit=6');
    $('kpi-anomalies').textContent = page.items.length === 0 ? '0' : `${page.items.length}${page.nextCursor ? '+' : ''}`;
    replaceChildren($('anomalies'), page.items.map((a) => {
      const li = el('li', 'anomaly');
      const head = el('div', 'head');
      head.append(el('span', 'badge anomaly_detected', a.rule.replaceAll('_', ' ')), el('time', 'muted', clock(a.occurredAt)));
      li.append(head, el('p', 'message', a.message));
      return li;
    }), 'No anomalies — all quiet.');
  }

  function stat(value, label, tone) {
    const box = el('div', `stat ${tone}`);
    box.append(el('strong', '', number.format(value)), el('span', '', label));
    return box;
  }

  async function refreshPipeline() {
    const p = await getJson('/analytics/pipeline');
    const webhooks = $('webhooks');
    if (!p.webhooks.configured) {
      webhooks.replaceChildren(el('span', 'muted', 'webhooks not configured'));
    } else {
      // Deliveries that succeeded; subscriptions whose endpoint is failing now, or was disabled.
      const s = p.webhooks.subscriptions ?? { healthy: 0, failing: 0, disabled: 0 };
      const d = p.webhooks.deliveries;
      webhooks.replaceChildren(
        stat(d ? d.succeeded : s.healthy, d ? 'succeeded' : 'healthy', 'good'),
        stat(s.failing, 'failing', 'bad'),
        stat(s.disabled, 'disabled', 'off'),
      );
      if (d) webhooks.append(el('p', 'hint', `${number.format(d.failed)} failed · ${number.format(d.pending)} pending deliveries`));
    }

    $('kpi-dlq').textContent = number.format(p.deadLetters.total);
    $('kpi-dlq-hour').textContent = `${number.format(p.deadLetters.lastHour)} in the last hour`;
    replaceChildren($('dlq-topics'), p.deadLetters.byTopic.map((t) => {
      const li = el('li', t.lastHour > 0 ? 'warn' : '');
      li.append(el('span', '', t.topic), el('span', '', number.format(t.count)));
      return li;
    }), 'none');

    // The total, and each consumer group's lag (or why it is unknown).
    const lag = p.consumerLag;
    const failed = lag.groups.filter((g) => g.error);
    $('kpi-lag').textContent = lag.groups.length > 0 && failed.length === lag.groups.length ? '?' : number.format(lag.total);
    $('kpi-lag-group').textContent = `records behind, over ${lag.groups.length} consumer group(s)`;
    replaceChildren($('lag-topics'), lag.groups.map((g) => {
      const li = el('li', g.error || g.total > 0 ? 'warn' : '');
      li.append(el('span', '', g.group), el('span', '', g.error ? `unavailable: ${g.error}` : number.format(g.total)));
      return li;
    }), '–');
  }

  // ---- live feed ----------------------------------------------------------------------------------

  function describe(e) {
    const p = e.payload || {};
    if (e.type.startsWith('order_')) {
      const qty = p.quantity && p.quantity > 1 ? ` × ${p.quantity}` : '';
      return `#${p.id} ${p.product} · ${money.format(p.amount)}${qty}${p.status && e.type === 'order_updated' ? ` → ${p.status}` : ''}`;
    }
    if (e.type.startsWith('user_')) return `#${p.id} ${p.name ?? ''}`.trim();
    if (e.type === 'anomaly_detected') return p.message;
    return e.key ?? e.eventId;
  }

  function addToFeed(e) {
    const feed = $('feed');
    feed.querySelector('.empty')?.remove();
    const li = el('li', 'event');
    li.dataset.type = e.type;
    li.append(el('span', `badge ${e.type}`, e.type.replace('_', ' ')), el('span', 'what', describe(e)), el('time', '', clock(e.occurredAt)));
    li.title = JSON.stringify(e.payload);
    feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
    received += 1;
    $('feed-count').textContent = `${number.format(received)} received`;
  }

  const debounced = (fn, ms) => {
    let timer;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(() => fn().catch(report), ms);
    };
  };
  const refreshOrders = debounced(() => Promise.all([refreshSummary(), refreshTopProducts()]), 400);
  const refreshAnomalyList = debounced(refreshAnomalies, 300);

  function connect() {
    const status = $('stream-status');
    const source = new EventSource('/events/stream?backlog=25');
    source.onopen = () => {
      status.className = 'pill pill-live';
      status.textContent = 'live';
      status.dataset.state = 'live';
    };
    source.onerror = () => {
      // EventSource reconnects by itself, sending Last-Event-ID so nothing is missed.
      status.className = 'pill pill-wait';
      status.textContent = 'reconnecting…';
      status.dataset.state = 'reconnecting';
    };
    source.onmessage = (message) => {
      const e = JSON.parse(message.data);
      addToFeed(e);
      if (e.type.startsWith('order_')) refreshOrders();
      if (e.type === 'anomaly_detected') refreshAnomalyList();
    };
  }

  function report(err) {
    console.warn(err);
  }

  async function start() {
    $('range-minutes').textContent = String(RANGE_MINUTES);
    try {
      const windows = await getJson('/analytics/windows');
      hopping = windows.find((w) => w.kind === 'hopping') ?? null;
      if (hopping) {
        ordersChart.data.datasets[2].label = `last ${hopping.label} (hopping)`;
        $('hopping-note').textContent = `line: ${hopping.sizeMinutes}-minute window, every ${hopping.hopMinutes} min`;
      }
    } catch (err) {
      report(err);
    }
    connect();
    await Promise.all([refreshSummary(), refreshTopProducts(), refreshAnomalies(), refreshPipeline()].map((p) => p.catch(report)));
    // The minute rolls over and lag drains without any event arriving.
    setInterval(() => Promise.all([refreshSummary(), refreshTopProducts()]).catch(report), 15_000);
    setInterval(() => refreshPipeline().catch(report), 5_000);
  }

  start();
})();
