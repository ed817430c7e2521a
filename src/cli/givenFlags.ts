// The flags a user actually typed, as opposed to yargs' defaults: a resumed run reports only
// what the user asked for and did not get.

/** Long flag names in `argv` (`--lr 0.1`, `--lr=0.1`, `--no-eval`), without the dashes. */
export function givenFlags(argv: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    const match = /^--([^=]+)/.exec(arg);
    if (!match) continue;
    const name = match[1].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    names.add(name);
    if (name.startsWith('no-')) names.add(name.slice(3));
  }
  return names;
}
