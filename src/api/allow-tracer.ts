/**
 * Diagnosis hook of POST /allow (`drl serve --test-mode --trace-entries`): for every answer
 * decided by a log entry, when its handler was entered, when its decision came back and when
 * the reply was handed to the socket, keyed by the entry's index. The API knows nothing of
 * what records it; without a tracer the route pays one null check and allocates nothing.
 */
export interface AllowTracer {
  /** performance.now() ms of this process: handler entered, decision back. */
  decided(index: number, enteredMs: number, decidedMs: number): void;
  /** The reply's last bytes were handed to the operating system. */
  written(index: number, writtenMs: number): void;
}
