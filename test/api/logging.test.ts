import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { buildApi } from '../../src/api/index.js';
import type { AllowRequest, AllowResponse } from '../../src/api/service.js';
import { FakeService } from './fake-service.js';

class Broken extends FakeService {
  override async allow(req: AllowRequest): Promise<AllowResponse> {
    if (req.key === 'boom') throw new Error('disk on fire');
    return super.allow(req);
  }
}

t.test(
  'no log line per decision at info; an internal error logs once and hides its text',
  async (t) => {
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const app = buildApi(new Broken({ rules: { default: { limit: 3, windowMs: 1000 } } }), {
      loggerInstance: pino({ level: 'info' }, sink),
    });
    t.teardown(() => app.close());
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
      t.equal(r.statusCode, 200);
    }
    t.equal(lines.length, 0, 'decisions are silent at info');
    const r = await app.inject({ method: 'POST', url: '/allow', payload: { key: 'boom' } });
    t.equal(r.statusCode, 500);
    t.same(r.json(), { error: 'internal', message: 'internal error' });
    t.equal(lines.length, 1);
    t.equal(lines[0]?.level, 50, 'at error level');
  },
);
