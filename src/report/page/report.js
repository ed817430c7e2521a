// Draws the report's curves (Chart.js, inlined before this script) and its misclassified
// digits from the JSON in #report-data, then marks <body data-ready="true"> for screenshots.
'use strict';

(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const [STEP, LOSS, ACCURACY, IMAGES_PER_S, EPOCH] = [0, 1, 2, 3, 4];
  const slider = document.getElementById('smoothing');
  slider.value = String(DEFAULT_SMOOTHING);

  /** The last step of each epoch, where its epoch record is plotted. */
  const epochEnd = new Map();
  for (const row of data.steps) epochEnd.set(row[EPOCH], row[STEP]);
  const atEpochEnds = (key) =>
    data.epochs.filter((e) => epochEnd.has(e.epoch) && e[key] !== null).map((e) => ({ x: epochEnd.get(e.epoch), y: e[key] }));
  const series = (column) => data.steps.map((row) => ({ x: row[STEP], y: row[column] }));
  /** debiasedEma (smoothing.js) of a column, at the slider's weight. */
  const smoothed = (column) => {
    const ys = debiasedEma(data.steps.map((row) => row[column]), Number(slider.value));
    return data.steps.map((row, i) => ({ x: row[STEP], y: ys[i] }));
  };

  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#1d2433';
  const common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    plugins: { legend: { labels: { boxWidth: 12 } } },
  };
  const stepAxis = { type: 'linear', title: { display: true, text: 'step' }, ticks: { precision: 0 } };
  const line = (label, points, color, extra = {}) => ({ label, data: points, borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 0, ...extra });
  const markers = (label, points, color) => line(label, points, color, { showLine: true, borderWidth: 2, pointRadius: 4, pointStyle: 'rectRot' });

  /** Datasets drawn only when some epoch record has them (validation needs --val-split). */
  const whenAny = (dataset) => (dataset.data.length > 0 ? [dataset] : []);

  const lossChart = new Chart(document.getElementById('loss-chart'), {
    type: 'line',
    data: {
      datasets: [
        line('batch loss', series(LOSS), 'rgba(47,111,223,0.3)', { borderWidth: 1 }),
        line('smoothed', smoothed(LOSS), '#2f6fdf', { borderWidth: 2 }),
        markers('epoch mean', atEpochEnds('loss'), '#17306b'),
        ...whenAny(markers('validation, epoch', atEpochEnds('val_loss'), '#e0a21b')),
      ],
    },
    options: { ...common, scales: { x: stepAxis, y: { title: { display: true, text: 'cross-entropy' } } } },
  });

  const finalTest = data.checkpointStep === null ? [] : [{ x: data.checkpointStep, y: data.finalTestAccuracy }];
  const accuracyChart = new Chart(document.getElementById('accuracy-chart'), {
    type: 'line',
    data: {
      datasets: [
        line('batch (smoothed)', smoothed(ACCURACY), '#1e9e62', { borderWidth: 2 }),
        markers('train, epoch', atEpochEnds('train_accuracy'), '#0d5c38'),
        ...whenAny(markers('validation, epoch', atEpochEnds('val_accuracy'), '#e0a21b')),
        markers('test, epoch', atEpochEnds('test_accuracy'), '#d0453a'),
        line('test, checkpoint', finalTest, '#8c1d14', { pointRadius: 6, pointStyle: 'star', showLine: false, borderWidth: 2 }),
      ],
    },
    options: { ...common, scales: { x: stepAxis, y: { min: 0, max: 1, title: { display: true, text: 'accuracy' } } } },
  });

  const output = document.getElementById('smoothing-value');
  const showSmoothing = () => {
    output.textContent = Number(slider.value).toFixed(2);
    lossChart.data.datasets[1].data = smoothed(LOSS);
    accuracyChart.data.datasets[0].data = smoothed(ACCURACY);
    lossChart.update('none');
    accuracyChart.update('none');
  };
  slider.addEventListener('input', showSmoothing);
  output.textContent = Number(slider.value).toFixed(2);

  new Chart(document.getElementById('throughput-chart'), {
    type: 'line',
    // The first steps' rate is not measured yet (0): leave them out rather than draw a dip.
    data: { datasets: [line('images/s', series(IMAGES_PER_S).filter((p) => p.y > 0), '#8c6bd6', { borderWidth: 2 })] },
    options: { ...common, plugins: { legend: { display: false } }, scales: { x: stepAxis, y: { beginAtZero: true, title: { display: true, text: 'images/s' } } } },
  });

  const parts = STEP_PHASES.filter(([key]) => typeof data.timings[key] === 'number');
  const named = parts.reduce((sum, [key]) => sum + data.timings[key], 0);
  const other = Math.max(0, (data.timings.total ?? named) - named);
  if (other > 0) parts.push(['other', 'other', '#c4c9d4']);
  const value = (key) => (key === 'other' ? other : data.timings[key]);
  new Chart(document.getElementById('step-time-chart'), {
    type: 'bar',
    data: {
      labels: ['mean step'],
      datasets: parts.map(([key, label, color]) => ({ label, data: [value(key)], backgroundColor: color, borderWidth: 0 })),
    },
    options: {
      ...common,
      indexAxis: 'y',
      interaction: { mode: 'nearest', intersect: true },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
      scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: 'ms' } }, y: { stacked: true } },
    },
  });

  for (const canvas of document.querySelectorAll('canvas[data-pixels]')) {
    const grey = Uint8Array.from(atob(canvas.dataset.pixels), (c) => c.charCodeAt(0));
    const context = canvas.getContext('2d');
    const image = context.createImageData(canvas.width, canvas.height);
    grey.forEach((g, i) => image.data.set([g, g, g, 255], 4 * i));
    context.putImageData(image, 0, 0);
  }

  // Two frames: Chart.js sizes its canvases to their boxes before the ready mark goes up.
  requestAnimationFrame(() => requestAnimationFrame(() => (document.body.dataset.ready = 'true')));
})();
