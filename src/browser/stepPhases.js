// The named phases of a training step's time, as the dashboard and the report draw them:
// [key in StepTimings, label, colour]. A classic script: it defines STEP_PHASES for the page's
// other scripts (the dashboard serves it as step-phases.js; the report inlines it).
'use strict';

const STEP_PHASES = [
  ['computeMs', 'compute', '#2f6fdf'],
  ['encodeMs', 'encode', '#8c6bd6'],
  ['transferMs', 'transfer', '#21a3b3'],
  ['waitForSlowestMs', 'wait for slowest', '#e0a21b'],
  ['aggregateMs', 'aggregate', '#d0453a'],
  ['applyMs', 'apply (Adam)', '#1e9e62'],
  ['broadcastMs', 'broadcast', '#6b7385'],
];
