// config.yaml in the run directory: the resolved settings the run was started with, so that
// `--config <run-dir>/config.yaml` runs it again. A resumed run keeps the file of its first start
// (its settings are the checkpoint's, whatever the resuming command line says).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../files/durableFs.js';
import { RUN_CONFIG_FILE } from '../../schemas/configFile.js';

export async function recordSettings(runDir: string, settings: string, resume: boolean): Promise<void> {
  const file = join(runDir, RUN_CONFIG_FILE);
  if (resume && existsSync(file)) return;
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(file, settings);
}
