/**
 * `--tls-cert`, `--tls-key`, `--tls-ca`: read once at start. One key pair serves both the HTTPS
 * API and the Raft links (mutual TLS against the CA), so all three are required together.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { DrlError } from '../../errors.js';

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface TlsPem {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** Undefined when no TLS flag is given; a DrlError when only some are. */
export function tlsFilesFrom(flags: {
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsCa?: string | undefined;
}): TlsFiles | undefined {
  const { tlsCert, tlsKey, tlsCa } = flags;
  if (tlsCert === undefined && tlsKey === undefined && tlsCa === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined || tlsCa === undefined) {
    throw new DrlError('invalid_argument', '--tls-cert, --tls-key and --tls-ca go together');
  }
  return { cert: tlsCert, key: tlsKey, ca: tlsCa };
}

export function readTlsFiles(files: TlsFiles): TlsPem {
  const read = (path: string, flag: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new DrlError('invalid_argument', `${flag} ${path}: ${(err as Error).message}`);
    }
  };
  const pem = {
    cert: read(files.cert, '--tls-cert'),
    key: read(files.key, '--tls-key'),
    ca: read(files.ca, '--tls-ca'),
  };
  try {
    // Parses all three now, so a bad file is one clear line at start, not a failed listen.
    createSecureContext(pem);
  } catch (err) {
    throw new DrlError(
      'invalid_argument',
      `--tls-cert/--tls-key/--tls-ca: ${(err as Error).message}`,
    );
  }
  return pem;
}
