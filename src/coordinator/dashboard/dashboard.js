// The live dashboard: listens to the coordinator's Server-Sent Events (/events) and draws
// the workers table and the training curves with Chart.js (served at assets/chart.umd.js).
// Events: `status` (the /metrics object, with the epoch records), `history` (step records so
// far), `step` (one new step record), `end` (the run is over; the stream closes). After the end
// the page keeps the run's last state, marked finished, until it is closed.
'use strict';

/** Points kept per curve; past it every other point is dropped (the newest survives). */
const MAX_POINTS = 10000;
/** Steps shown in the step-time breakdown. */
const BREAKDOWN_STEPS = 100;

/** STEP_PHASES (step-phases.js) and what they leave of the total. */
const TIMING_PARTS = [...STEP_PHASES, ['other', 'other', '#c4c9d4']];

const $ = (id) => document.getElementById(id);

function formatBytes(n) {
  if (n === undefined || n === null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function formatNumber(x, digits) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** 75 → "1m15s", like the terminal's ETA. */
function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

function formatPercent(x) {
  return typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–';
}

function thinKeepingNewest(points) {
  const last = points.length - 1;
  return points.filter((_, i) => (last - i) % 2 === 0);
}

function lineChart(canvasId, datasets, yTitle, yOptions = {}) {
  return new Chart($(canvasId), {
    type: 'line',
    data: {
      datasets: datasets.map((d) => ({
        label: d.label,
        data: [],
        borderColor: d.color,
        backgroundColor: d.color,
        borderWidth: d.width ?? 1.5,
        pointRadius: d.markers ? 4 : 0,
        pointStyle: d.markers ? 'rectRot' : undefined,
        tension: 0,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      // Series with no point yet (validation without --val-split) stay out of the legend.
      plugins: { legend: { display: datasets.length > 1, labels: { boxWidth: 12, filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } },
        y: { title: { display: true, text: yTitle }, ...yOptions },
      },
    },
  });
}

function createCharts() {
  Chart.defaults.font.size = 11;
  return {
    loss: lineChart('loss-chart', [
      { label: 'batch loss', color: 'rgba(47,111,223,0.35)', width: 1 },
      { label: 'smoothed', color: '#2f6fdf', width: 2 },
    ], 'cross-entropy'),
    accuracy: lineChart('accuracy-chart', [
      { label: 'batch accuracy', color: 'rgba(30,158,98,0.35)', width: 1 },
      { label: 'smoothed', color: '#1e9e62', width: 2 },
      { label: 'test, epoch', color: '#d0453a', width: 2, markers: true },
      { label: 'validation, epoch', color: '#e0a21b', width: 2, markers: true },
    ], 'accuracy', { min: 0, max: 1 }),
    throughput: lineChart('throughput-chart', [{ label: 'images/s', color: '#8c6bd6', width: 2 }], 'images/s', { beginAtZero: true }),
    bytes: lineChart('bytes-chart', [{ label: 'MiB per step', color: '#21a3b3', width: 2 }], 'MiB', { beginAtZero: true }),
    timings: new Chart($('timings-chart'), {
      type: 'bar',
      data: {
        labels: [],
        datasets: TIMING_PARTS.map(([, label, color]) => ({ label, data: [], backgroundColor: color, borderWidth: 0 })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: 'right', labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: true, title: { display: true, text: 'step' } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: 'ms' } },
        },
      },
    }),
  };
}

/** The curves and the breakdown as plain arrays; the charts are redrawn from them. */
class Curves {
  constructor(charts) {
    this.charts = charts;
    this.reset();
  }

  reset() {
    this.lastStep = 0;
    this.smoothLoss = new DebiasedEma(this.smoothing());
    this.smoothAccuracy = new DebiasedEma(this.smoothing());
    this.breakdown = [];
    /** epoch → the last step seen of it, where its epoch record is plotted. */
    this.epochEnd = new Map();
    this.epochs = [];
    for (const chart of [this.charts.loss, this.charts.accuracy, this.charts.throughput, this.charts.bytes]) {
      for (const dataset of chart.data.datasets) dataset.data = [];
    }
  }

  smoothing() {
    return Number($('smoothing').value);
  }

  add(record) {
    if (record.step <= this.lastStep) return; // replayed after a reconnect
    this.lastStep = record.step;
    this.epochEnd.set(record.epoch, record.step);
    const x = record.step;
    this.push(this.charts.loss, 0, { x, y: record.loss });
    this.push(this.charts.loss, 1, { x, y: this.smoothLoss.next(record.loss) });
    this.push(this.charts.accuracy, 0, { x, y: record.accuracy });
    this.push(this.charts.accuracy, 1, { x, y: this.smoothAccuracy.next(record.accuracy) });
    // The first steps' rate is not measured yet (0): leave it out rather than draw a dip.
    if (record.images_per_s > 0) this.push(this.charts.throughput, 0, { x, y: record.images_per_s });
    this.push(this.charts.bytes, 0, { x, y: record.bytes / 1024 / 1024 });
    this.breakdown.push(record);
    if (this.breakdown.length > BREAKDOWN_STEPS) this.breakdown.shift();
  }

  /** The smoothed curves again from the raw ones, at the slider's weight. */
  resmooth() {
    for (const chart of [this.charts.loss, this.charts.accuracy]) {
      const ys = debiasedEma(chart.data.datasets[0].data.map((p) => p.y), this.smoothing());
      chart.data.datasets[1].data = chart.data.datasets[0].data.map((p, i) => ({ x: p.x, y: ys[i] }));
    }
    this.smoothLoss = this.continuedEma(this.charts.loss);
    this.smoothAccuracy = this.continuedEma(this.charts.accuracy);
  }

  /** A smoother that goes on from the curve drawn so far. */
  continuedEma(chart) {
    const ema = new DebiasedEma(this.smoothing());
    for (const p of chart.data.datasets[0].data) ema.next(p.y);
    return ema;
  }

  /** Test and validation accuracy per epoch, at the epoch's last step. */
  setEpochs(epochs) {
    this.epochs = epochs;
  }

  epochPoints(key) {
    return this.epochs.filter((e) => typeof e[key] === 'number' && this.epochEnd.has(e.epoch)).map((e) => ({ x: this.epochEnd.get(e.epoch), y: e[key] }));
  }

  push(chart, index, point) {
    const dataset = chart.data.datasets[index];
    dataset.data.push(point);
    if (dataset.data.length > MAX_POINTS) dataset.data = thinKeepingNewest(dataset.data);
  }

  draw() {
    const latest = this.breakdown[this.breakdown.length - 1];
    this.charts.accuracy.data.datasets[2].data = this.epochPoints('test_accuracy');
    this.charts.accuracy.data.datasets[3].data = this.epochPoints('val_accuracy');
    for (const chart of [this.charts.loss, this.charts.accuracy, this.charts.throughput, this.charts.bytes]) {
      // The x axis spans the whole run, so the curves show how far along it is.
      if (latest) chart.options.scales.x.max = latest.total_steps;
      chart.update('none');
    }
    const timings = this.charts.timings;
    timings.data.labels = this.breakdown.map((r) => r.step);
    TIMING_PARTS.forEach(([key], i) => {
      timings.data.datasets[i].data = this.breakdown.map((r) => timingPart(r.timings_ms, key));
    });
    timings.update('none');
    $('breakdown-window').textContent = this.breakdown.length ? `steps ${this.breakdown[0].step}–${this.lastStep}` : 'no step yet';
    if (latest) showLatest(latest);
    document.body.dataset.step = String(this.lastStep);
  }
}

/** One part of a step's time; `other` is what the named parts leave of the total. */
function timingPart(timings, key) {
  if (!timings) return 0;
  if (key !== 'other') return timings[key] ?? 0;
  const named = TIMING_PARTS.filter(([k]) => k !== 'other').reduce((sum, [k]) => sum + (timings[k] ?? 0), 0);
  return Math.max(0, (timings.total ?? named) - named);
}

function setBadge(element, text) {
  element.textContent = text;
  element.className = `badge ${text.replace(/\s+/g, '-')}`;
}

function showStatus(status, curves) {
  setBadge($('phase'), status.phase);
  $('run-id').textContent = status.run_id;
  $('started-at').textContent = new Date(status.started_at).toLocaleString();
  showWorkers(status.workers ?? [], status.expected_workers);
  const epochs = status.epochs ?? [];
  curves.setEpochs(epochs);
  const tested = epochs.filter((e) => typeof e.test_accuracy === 'number');
  const testAccuracy = status.final_test_accuracy ?? tested[tested.length - 1]?.test_accuracy;
  $('n-test').textContent = formatPercent(testAccuracy);
  const validated = epochs.filter((e) => typeof e.val_accuracy === 'number');
  $('tile-validation').hidden = validated.length === 0;
  $('n-validation').textContent = formatPercent(validated[validated.length - 1]?.val_accuracy);
  $('n-eta').textContent = status.phase === 'finished' ? 'done' : formatDuration(status.eta_seconds);
  if (status.phase === 'finished' || status.phase === 'failed') showEnded(status.phase);
}

/** The run is over: the page keeps its last state and says so, until it is closed. */
function showEnded(phase) {
  setBadge($('phase'), phase);
  document.body.dataset.phase = phase;
  const note = $('finished-note');
  if (!note.hidden) return;
  note.hidden = false;
  note.textContent = `Run ${phase} at ${new Date().toLocaleTimeString()}. The coordinator no longer serves this run; the page keeps its final state until you close it.`;
  if (phase === 'failed') note.classList.add('failed');
  document.title = `${phase} · ${document.title}`;
  if (phase === 'finished') $('n-eta').textContent = 'done';
}

/** The number tiles, from the newest step record. */
function showLatest(record) {
  $('n-step').textContent = `${record.step} / ${record.total_steps}`;
  $('n-epoch').textContent = String(record.epoch);
  $('n-loss').textContent = formatNumber(record.loss, 4);
  $('n-accuracy').textContent = `${(100 * record.accuracy).toFixed(1)}%`;
  $('n-lr').textContent = record.lr.toExponential(2);
  $('n-images').textContent = formatNumber(record.images_per_s, 0);
  $('n-bytes').textContent = formatBytes(record.bytes);
  $('n-steptime').textContent = record.timings_ms ? `${formatNumber(record.timings_ms.total, 0)} ms` : '–';
}

function showWorkers(workers, expected) {
  $('worker-count').textContent = `(${workers.filter((w) => w.state !== 'gone' && w.state !== 'evicted').length} of ${expected} expected)`;
  const body = $('workers').tBodies[0];
  const rows = workers.map((w) => {
    const row = document.createElement('tr');
    row.dataset.workerId = w.id;
    const cells = [
      [w.id],
      [w.state, 'state'],
      [w.backend, 'backend'],
      [w.device, 'device'],
      [w.pid ?? '–'],
      [w.steps, 'num'],
      [`${w.last_step_ms} ms`, 'num'],
      [w.images_per_s, 'num'],
      // A worker's own claims, shown in its row only: the run's figures do not take them on trust.
      [w.claimed_loss === undefined ? '–' : formatNumber(w.claimed_loss, 4), 'num'],
      [w.claimed_accuracy === undefined ? '–' : `${formatNumber(100 * w.claimed_accuracy, 1)}%`, 'num'],
      [formatBytes(w.bytes_sent), 'num'],
      [formatBytes(w.bytes_received), 'num'],
    ];
    for (const [text, cls] of cells) {
      const cell = document.createElement('td');
      if (cls === 'state') {
        const badge = document.createElement('span');
        setBadge(badge, String(text));
        cell.append(badge);
        // An evicted worker's row says why, so the operator need not search the log.
        if (w.reason) {
          badge.title = w.reason;
          const reason = document.createElement('small');
          reason.className = 'reason';
          reason.textContent = ` ${w.reason}`;
          cell.append(reason);
        }
      } else {
        cell.textContent = String(text);
      }
      if (cls) cell.classList.add(cls);
      row.append(cell);
    }
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement('tr');
    row.className = 'empty';
    row.innerHTML = '<td colspan="12">no worker has joined yet</td>';
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

function connect(curves) {
  const source = new EventSource('events');
  let drawPending = false;
  // Many records can arrive at once (history, a fast run): draw at most once per frame.
  const scheduleDraw = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      curves.draw();
    });
  };
  const setConnection = (state) => {
    document.body.dataset.connection = state;
    setBadge($('connection'), state);
  };
  source.onopen = () => setConnection('open');
  source.onerror = () => setConnection(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  source.addEventListener('status', (e) => {
    showStatus(JSON.parse(e.data), curves);
    scheduleDraw();
  });
  source.addEventListener('history', (e) => {
    curves.reset();
    for (const record of JSON.parse(e.data)) curves.add(record);
    scheduleDraw();
  });
  source.addEventListener('step', (e) => {
    curves.add(JSON.parse(e.data));
    scheduleDraw();
  });
  source.addEventListener('end', (e) => {
    source.close();
    setConnection('closed');
    showEnded(JSON.parse(e.data).phase);
    scheduleDraw();
  });
  return scheduleDraw;
}

function start() {
  const slider = $('smoothing');
  slider.value = String(DEFAULT_SMOOTHING);
  $('smoothing-value').textContent = Number(slider.value).toFixed(2);
  const curves = new Curves(createCharts());
  const redraw = connect(curves);
  slider.addEventListener('input', () => {
    $('smoothing-value').textContent = Number(slider.value).toFixed(2);
    curves.resmooth();
    redraw();
  });
}

start();
