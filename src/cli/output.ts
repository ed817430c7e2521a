// How commands end: a human summary on stdout, or with --json one JSON object as the last line.
export function printResult(json: boolean, summary: object, human: string): void {
  if (json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(human + '\n');
}

/** An AbortSignal that fires on the first SIGINT/SIGTERM; a second one exits at once. */
export function stopSignal(onStop: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onStop(signal);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}
