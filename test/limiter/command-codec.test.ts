import fc from 'fast-check';
import t from 'tap';
import { decodeCommand, encodeCommand } from '../../src/limiter/command-codec.js';
import type { Command } from '../../src/limiter/types.js';

const ts = fc.integer({ min: 0, max: 2 ** 50 });
const str = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const pos = fc.integer({ min: 1, max: 1_000_000_000 });

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record(
    {
      type: fc.constant('allow' as const),
      ts,
      key: str,
      rule: str,
      cost: pos,
      limit: pos,
      windowMs: pos,
      requestId: str,
    },
    { requiredKeys: ['type', 'ts', 'key', 'cost'] },
  ),
  fc.record({
    type: fc.constant('setRule' as const),
    ts,
    name: str,
    spec: fc.record(
      {
        limit: pos,
        windowMs: pos,
        algorithm: fc.constantFrom('sliding-log', 'sliding-counter', 'token-bucket' as const),
        burst: fc.integer({ min: 0, max: 1000 }),
      },
      { requiredKeys: ['limit', 'windowMs', 'algorithm'] },
    ),
  }),
  fc.record({ type: fc.constant('deleteRule' as const), ts, name: str }),
  fc.record({
    type: fc.constant('setOverride' as const),
    ts,
    rule: str,
    key: str,
    spec: fc.record({ limit: pos, windowMs: pos }),
  }),
  fc.record({ type: fc.constant('deleteOverride' as const), ts, rule: str, key: str }),
  fc.record({ type: fc.constant('tick' as const), ts }),
);

t.test('every command survives an encode/decode round trip unchanged', async (t) => {
  fc.assert(
    fc.property(command, (c) => {
      t.same(decodeCommand(encodeCommand(c)), c);
    }),
    { numRuns: 500 },
  );
});

t.test('truncated or trailing bytes are refused, never half-decoded', async (t) => {
  const bytes = encodeCommand({ type: 'allow', ts: 5, key: 'user:1', cost: 1 });
  for (let n = 0; n < bytes.length; n++) {
    t.throws(() => decodeCommand(bytes.subarray(0, n)), { code: 'invalid_argument' });
  }
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  t.throws(() => decodeCommand(longer), { code: 'invalid_argument' });
});
