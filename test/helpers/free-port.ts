// Ports for test servers. A port the kernel hands out for `listen(0)` comes from the ephemeral range, the same
// range it draws from for every outgoing connection; with many tests connecting in parallel, such a port is
// often taken again before the node under test binds it (EADDRINUSE, seen in CI). Ports below the ephemeral
// range are never given to outgoing connections, so only another test choosing the same port can collide.
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

/** A loopback port free now for TCP and for UDP (gossip and serf bind both), outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
}
