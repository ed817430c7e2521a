// A self-signed certificate made with openssl for 127.0.0.1 and localhost, for TLS tests.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Undefined when openssl is missing (a test may skip then, never in CI). */
export function selfSignedCertificate(dir: string): { cert: string; key: string } | undefined {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
  } catch (error) {
    if (process.env.CI) throw error;
    return undefined;
  }
  return { cert, key };
}
