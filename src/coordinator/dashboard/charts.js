// The dashboard's curves: the Chart.js charts (served at assets/chart.umd.js) and Curves, which
// keeps every series as plain arrays (thinned past MAX_POINTS), smooths them (smoothing.js),
// places the epochs' test and validation accuracy at their last steps, and redraws. A classic
// script loaded before dashboard.js, which feeds it the run's events.
'use strict';

/** The page's element of that id (dashboard.js uses it too). */
const $ = (id) => document.getElementById(id);

/** Points kept per curve; past it every other point is dropped (the newest survives). */
const MAX_POINTS = 10000;
/** Steps shown in the step-time breakdown. */
const BREAKDOWN_STEPS = 100;

/** STEP_PHASES (step-phases.js) and what they leave of the total. */
const TIMING_PARTS = [...STEP_PHASES, ['other', 'other', '#c4c9d4']];

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
