// releaseWhenDone and ClientGone on a real HTTP server: released exactly once whether the response ends or the
// socket closes first, pipelined responses (which never get the socket) included, and a keep-alive socket
// gathers no listeners however many requests it serves.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientGone, releaseWhenDone } from '../../src/api/client-gone.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A server whose handler is `handle`; resolves with its port and the server-side sockets. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server: Server = createServer(handle);
  server.on('connection', (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets };
}

async function client(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString()));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const answers = (text: string): number => text.split('HTTP/1.1 200').length - 1;

describe('releaseWhenDone', () => {
  it('releases once when the response ends, adding nothing that stays on a keep-alive socket', async () => {
    const releases: number[] = [];
    let served = 0;
    const { port, sockets } = await serve((_req, res) => {
      const n = served++;
      releases[n] = 0;
      releaseWhenDone(res, () => releases[n]++);
      res.end('ok');
    });
    const { socket, received } = await client(port);
    const listeners: number[] = [];
    for (let i = 1; i <= 30; i++) {
      socket.write(GET);
      await expect.poll(() => answers(received())).toBe(i);
      await expect.poll(() => releases[i - 1]).toBe(1);
      listeners.push(sockets[0].listenerCount('close'));
    }
    expect(new Set(listeners).size).toBe(1);
    socket.destroy();
    await new Promise((resolve) => sockets[0].once('close', resolve));
    expect(releases).toEqual(Array(30).fill(1));
  });

  it('releases every pipelined response, answered or not, once, when the socket closes', async () => {
    const releases: number[] = [];
    const { port } = await serve((_req, res) => {
      const n = releases.length;
      releases.push(0);
      releaseWhenDone(res, () => releases[n]++);
      // Never answered: the first holds the socket, the others queue behind it and never get it.
    });
    const { socket } = await client(port);
    socket.write(GET.repeat(8));
    await expect.poll(() => releases.length).toBe(8);
    socket.destroy();
    await expect.poll(() => releases).toEqual(Array(8).fill(1));
  });

  it('releases at once, and says so, when the connection is already gone', async () => {
    let outcome: { registered: boolean; released: number } | undefined;
    const { port } = await serve((req, res) => {
      req.socket.destroy();
      let released = 0;
      const registered = releaseWhenDone(res, () => released++);
      outcome = { registered, released };
    });
    const { socket } = await client(port);
    socket.write(GET);
    await expect.poll(() => outcome).toEqual({ registered: false, released: 1 });
  });
});

describe('ClientGone', () => {
  it('aborts a pipelined request whose response never had the socket, once; not one that was answered', async () => {
    const gones: ClientGone[] = [];
    const aborts: number[] = [];
    const { port } = await serve((_req, res) => {
      const gone = new ClientGone(res);
      const n = gones.push(gone) - 1;
      aborts[n] = 0;
      gone.addEventListener('abort', () => aborts[n]++);
      if (n === 0) {
        gone.detach();
        res.end('ok'); // answered, then the rest wait behind nothing
      }
    });
    const { socket, received } = await client(port);
    socket.write(GET.repeat(5));
    await expect.poll(() => gones.length).toBe(5);
    await expect.poll(() => answers(received())).toBe(1);
    socket.destroy();
    await expect.poll(() => gones.map((gone) => gone.aborted)).toEqual([false, true, true, true, true]);
    expect(aborts).toEqual([0, 1, 1, 1, 1]);
  });
});
