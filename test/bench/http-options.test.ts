// The bench's command line: the round order flag (the rest is exercised by the bench itself).
import t from 'tap';
import { parseOptions } from '../../bench/http-options.js';

t.test('--order: fixed by default, alternate on request, anything else refused', async (t) => {
  t.equal(parseOptions([]).order, 'fixed');
  t.equal(parseOptions(['--order', 'alternate']).order, 'alternate');
  t.throws(() => parseOptions(['--order', 'random']), /--order: fixed or alternate, got random/);
});
