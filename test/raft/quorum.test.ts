// The commit/read-round quorum value: what a majority of voters has reached, computed in place.
import fc from 'fast-check';
import t from 'tap';
import { majorityValue, quorumScratch } from '../../src/raft/core/quorum.js';

t.test('majorityValue is the quorum-th largest value, as a sorted copy says', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 9 }), (values) => {
      const sorted = [...values].sort((a, b) => b - a);
      const want = sorted[Math.floor(values.length / 2)];
      return majorityValue(values) === want;
    }),
    { numRuns: 2000 },
  );
  t.equal(majorityValue([]), 0);
  t.equal(majorityValue([5, 9, 1]), 5, 'two of three reached 5');
  t.equal(majorityValue([7, 3, 7, 1, 9]), 7, 'three of five reached 7');
});

t.test('the scratch array is reused while the group size stays', async (t) => {
  const a = quorumScratch(3);
  t.equal(a.length, 3);
  t.equal(quorumScratch(3), a, 'same array for the same size');
  t.not(quorumScratch(5), a, 'a new one when the size changes');
  t.equal(quorumScratch(5).length, 5);
});
