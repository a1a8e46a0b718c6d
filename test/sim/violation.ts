/** A broken safety (or liveness) rule, carrying what reproduces it. */

export class SimViolation extends Error {
  constructor(
    readonly rule: string,
    readonly detail: string,
    readonly seed: number,
    readonly step: number,
    readonly repro: string,
  ) {
    super(`${rule} violated at seed ${seed} step ${step}: ${detail}\n  reproduce: ${repro}`);
    this.name = 'SimViolation';
  }
}

export function reproCommand(seed: number, bugs: readonly string[]): string {
  const bugArg = bugs.length > 0 ? ` --bugs ${bugs.join(',')}` : '';
  return `npx tsx test/sim/campaign.ts --seed ${seed}${bugArg} --verbose`;
}
