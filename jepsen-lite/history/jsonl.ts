import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { HistoryLine } from './types.js';

export function parseHistory(text: string): HistoryLine[] {
  const lines: HistoryLine[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    if (raw.trim() === '') continue;
    try {
      lines.push(JSON.parse(raw) as HistoryLine);
    } catch (err) {
      throw new Error(`history line ${lineNo}: ${(err as Error).message}`);
    }
  }
  return lines;
}

export function readHistory(path: string): HistoryLine[] {
  return parseHistory(readFileSync(path, 'utf8'));
}

export function formatHistory(lines: readonly HistoryLine[]): string {
  return lines.map((line) => JSON.stringify(line)).join('\n') + (lines.length > 0 ? '\n' : '');
}

/** Appends lines as they happen, so a crashed run still leaves a checkable history. */
export class HistoryWriter {
  private readonly stream: WriteStream;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  write(line: HistoryLine): void {
    this.stream.write(`${JSON.stringify(line)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
