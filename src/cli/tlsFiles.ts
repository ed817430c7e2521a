// Where TLS material comes from: --tls-cert/--tls-key for the coordinator, --tls-ca for workers.
import { readFileSync } from 'node:fs';
import { UsageError } from './usageError.js';

function readPem(file: string, flag: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as Error).message})`);
  }
  if (!bytes.toString('latin1').includes('-----BEGIN ')) throw new UsageError(`${flag} ${file}: not a PEM file (no -----BEGIN line)`);
  return bytes;
}

/** The coordinator's certificate and key, or undefined when neither flag is given. */
export function readTlsPair(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new UsageError('give both --tls-cert and --tls-key (PEM files) for wss://, or neither for ws://');
  return { cert: readPem(certFile, '--tls-cert'), key: readPem(keyFile, '--tls-key') };
}

/** Certificates a worker trusts for wss:// besides the system's: --tls-ca. */
export function readTlsCa(caFile: string | undefined): Buffer | undefined {
  return caFile ? readPem(caFile, '--tls-ca') : undefined;
}
