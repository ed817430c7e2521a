// The named phases of a training step's time, as the dashboard and the report draw them:
// [key in StepTimings, label, colour]. A classic script: it defines STEP_PHASES for the page's
// other scripts (the dashboard serves it as step-phases.js; the report inlines it).
'use strict';

const STEP_PHASES = [
  ['compute', 'compute', '#2f6fdf'],
  ['encode', 'encode', '#8c6bd6'],
  ['transfer', 'transfer', '#21a3b3'],
  ['wait_for_slowest', 'wait for slowest', '#e0a21b'],
  ['aggregate', 'aggregate', '#d0453a'],
  ['apply', 'apply (Adam)', '#1e9e62'],
  ['broadcast', 'broadcast', '#6b7385'],
];
