// Ports for test servers. A port the kernel hands out for `listen(0)` comes from the ephemeral range, the same
// range it draws from for every outgoing connection; with many tests connecting in parallel, such a port is
// often taken again before the node under test binds it (EADDRINUSE, seen in CI). Ports below the ephemeral
// range are never given to outgoing connections, so only another test choosing the same port can collide.
// That is ruled out too: each test process (a vitest fork, VITEST_POOL_ID) draws from its own slice of the
// range, and never hands out a port twice. A test may choose ports seconds before its nodes bind them (five
// nodes started in turn, each told the others' ports up front): CI once saw another fork take one meanwhile.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const LOWEST = 20_000;

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGHEST = ephemeralStart() - 1;

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Slices of the range: as many test processes as this run side by side without sharing a port. */
const SLICES = 4;
const SLICE_WIDTH = Math.floor((HIGHEST - LOWEST + 1) / SLICES);
const poolId = Number(process.env.VITEST_POOL_ID);
const SLICE_LOW = LOWEST + (Number.isInteger(poolId) && poolId > 0 ? (poolId - 1) % SLICES : 0) * SLICE_WIDTH;

/** Ports this process handed out; forgotten once they fill half the slice (a test file uses a few hundred). */
const handedOut = new Set<number>();

/** A loopback port free now for TCP and for UDP (gossip and serf bind both), outside the ephemeral range. */
export async function freePort(): Promise<number> {
  if (handedOut.size >= SLICE_WIDTH / 2) handedOut.clear();
  for (;;) {
    const port = SLICE_LOW + Math.floor(Math.random() * SLICE_WIDTH);
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
}
