/**
 * Turns (src/http/turns.ts): submissions' CPU work one per turn of the event loop, so that socket
 * reads — the database's answers — are handled between two submissions rather than after all of
 * them. Checked with a real TCP connection on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import { createTurns } from '../src/http/turns.js';

async function socketPair(t: { teardown(fn: () => unknown): void }): Promise<{ client: Socket; server: Socket }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  t.teardown(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { client, server };
}

t.test('data that arrives during one turn is read before the next turn', async (t) => {
  const { client, server } = await socketPair(t);
  const events: string[] = [];
  let read = '';
  server.on('data', (d: Buffer) => {
    read += d.toString();
    events.push(`read ${d.toString()}`);
  });
  const turns = createTurns();
  const all = ['a', 'b', 'c'].map((name) =>
    turns.take().then(() => {
      events.push(`turn ${name}`);
      client.write(name);
    }));
  await Promise.all(all);
  const deadline = Date.now() + 5000;
  while (read.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.same(events, ['turn a', 'read a', 'turn b', 'read b', 'turn c', 'read c'], 'one turn per pass of the event loop, in FIFO order');
});

t.test('turns go on after the queue ran empty, and after a caller whose work threw', async (t) => {
  const turns = createTurns();
  await turns.take();
  const failing = turns.take().then(() => {
    throw new Error('the caller failed');
  });
  const after = turns.take();
  await t.rejects(failing, /the caller failed/);
  await after;
  await turns.take();
});
