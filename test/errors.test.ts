import t from 'tap';
import { DrlError, ErrorCodes } from '../src/errors.js';

t.test('a DrlError carries its stable code and HTTP status', async (t) => {
  const err = new DrlError('invalid_key', 'key must not be empty');
  t.ok(err instanceof Error);
  t.equal(err.code, 'invalid_key');
  t.equal(err.status, 400);
  t.same(err.toJSON(), { error: 'invalid_key', message: 'key must not be empty' });
});

t.test('every code is snake_case and maps to an HTTP status', async (t) => {
  for (const [code, status] of Object.entries(ErrorCodes)) {
    t.match(code, /^[a-z]+(_[a-z]+)*$/, code);
    t.ok(status >= 400 && status < 600, code);
  }
});
