import t from 'tap';
import {
  encodeMemberContext,
  MemberDirectory,
  metaOf,
} from '../../src/cli/serve/member-directory.js';

const peers = { n1: '127.0.0.1:9001', n2: '127.0.0.1:9002', n3: '127.0.0.1:9003' };
const self = { id: 'n1', http: '127.0.0.1:8001', raft: '127.0.0.1:9001' };

t.test('an HTTP address heard in a handshake fills in, a replicated one wins', async (t) => {
  const d = new MemberDirectory(peers, self);
  t.same(d.list(['n1', 'n2']), [
    { id: 'n1', raft: '127.0.0.1:9001', http: '127.0.0.1:8001' },
    { id: 'n2', raft: '127.0.0.1:9002' },
  ]);
  d.hear('n2', metaOf({ http: '127.0.0.1:8002' }));
  t.equal(d.httpOf('n2'), '127.0.0.1:8002');
  t.same(
    d.export(),
    {
      n1: { raft: '127.0.0.1:9001', http: '127.0.0.1:8001' },
      n2: { raft: '127.0.0.1:9002' },
      n3: { raft: '127.0.0.1:9003' },
    },
    'heard addresses stay out of snapshots',
  );
  d.setHttp('n2', '10.0.0.2:8002'); // a leader's announcement
  t.equal(d.httpOf('n2'), '10.0.0.2:8002');
  d.hear('n2', metaOf({ http: '127.0.0.1:8002' }));
  t.equal(d.httpOf('n2'), '10.0.0.2:8002', 'a later handshake does not override it');
  d.onConfChange({
    type: 'addLearner',
    id: 'n3',
    context: encodeMemberContext({ raft: 'x:1', http: 'h3:1' }),
  });
  d.hear('n3', metaOf({ http: '127.0.0.1:8003' }));
  t.equal(d.httpOf('n3'), 'h3:1');
});

t.test('a handshake note that is not an HTTP address is ignored', async (t) => {
  const d = new MemberDirectory(peers, self);
  for (const meta of ['', 'x', '{"http":5}', '{"http":"no port"}', '{"http":"a/b:1"}', 'null']) {
    d.hear('n2', meta);
    t.equal(d.httpOf('n2'), null, JSON.stringify(meta));
  }
});
