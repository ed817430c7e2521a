// The live dashboard: listens to the coordinator's Server-Sent Events (/events), shows the
// workers table and the latest figures, and hands the step records to Curves (charts.js).
// Events: `status` (the /metrics object, with the epoch records), `history` (step records so
// far), `step` (one new step record), `end` (the run is over; the stream closes). After the end
// the page keeps the run's last state, marked finished, until it is closed.
'use strict';

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
