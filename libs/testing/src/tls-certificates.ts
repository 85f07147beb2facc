import { errorMessage } from '@idm/config';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { HarnessError } from './harness-errors.js';

/** PEM files of a throw-away PKI: one CA, a server certificate for 127.0.0.1/localhost, a client certificate. */
export interface TlsFiles {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A client certificate signed by another CA: a server verifying clients must refuse it. */
  readonly strangerCertFile: string;
  readonly strangerKeyFile: string;
}

/**
 * Generates a CA, a server certificate (SAN `IP:127.0.0.1`, `DNS:localhost`) and client
 * certificates with the real `openssl` binary, into `dir`. EC P-256 keys, valid one day.
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` (install with `apt-get install openssl`) or
 *   `IDM_HARNESS_START_FAILED` quoting openssl's error.
 */
export function createTlsFiles(dir: string): TlsFiles {
  const openssl = findBinary('openssl', 'apt-get install openssl');
  const run = (args: string[]): void => {
    try {
      execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString('utf8') ?? '';
      throw new HarnessError('IDM_HARNESS_START_FAILED', `openssl ${args[0]} failed: ${stderr.trim() || errorMessage(err)}`, {
        cause: err,
      });
    }
  };
  const p = (name: string): string => join(dir, name);
  const key = (file: string): void => run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file]);
  const ca = (name: string): void => {
    key(p(`${name}.key`));
    run(['req', '-x509', '-new', '-key', p(`${name}.key`), '-sha256', '-days', '1', '-subj', `/CN=${name}`, '-out', p(`${name}.pem`)]);
  };
  const leaf = (name: string, caName: string, ext: string): void => {
    writeFileSync(p(`${name}.ext`), ext);
    key(p(`${name}.key`));
    run(['req', '-new', '-key', p(`${name}.key`), '-subj', `/CN=${name}`, '-out', p(`${name}.csr`)]);
    run([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p(`${caName}.pem`),
      '-CAkey',
      p(`${caName}.key`),
      '-CAcreateserial',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    ]);
  };
  ca('idm-test-ca');
  ca('stranger-ca');
  leaf('server', 'idm-test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'idm-test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    caFile: p('idm-test-ca.pem'),
    caKeyFile: p('idm-test-ca.key'),
    serverCertFile: p('server.pem'),
    serverKeyFile: p('server.key'),
    clientCertFile: p('client.pem'),
    clientKeyFile: p('client.key'),
    strangerCertFile: p('stranger.pem'),
    strangerKeyFile: p('stranger.key'),
  };
}
