/**
 * Throwaway PKI for TLS tests, made with openssl in a temp dir at test time (never committed):
 * a cluster CA, one node certificate it signs (SAN 127.0.0.1 and localhost, used by every
 * node), and a rogue CA with its own node certificate (a stranger's).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  ca: string;
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { crt: string; key: string } {
  const crt = join(dir, `${name}-ca.crt`);
  const key = join(dir, `${name}-ca.key`);
  openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    key,
    '-out',
    crt,
    '-days',
    '1',
    '-subj',
    `/CN=${name} CA`,
  ]);
  return { crt, key };
}

function makeLeaf(dir: string, name: string, ca: { crt: string; key: string }): CertFiles {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(['req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.crt,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '1',
    '-extfile',
    ext,
  ]);
  return { ca: ca.crt, cert, key };
}

/** The cluster's certificate files and a rogue pair signed by another CA. */
export function makeCerts(dir: string): { node: CertFiles; rogue: CertFiles } {
  const ca = makeCa(dir, 'cluster');
  const rogueCa = makeCa(dir, 'rogue');
  return {
    node: makeLeaf(dir, 'node', ca),
    rogue: { ...makeLeaf(dir, 'rogue', rogueCa), ca: ca.crt },
  };
}
