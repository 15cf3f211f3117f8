// Two or more RoutingLinks on loopback, each behind a plain TCP server that hands TLS connections over as
// the gossip port does (first byte 0x16).
import { createServer, type Server } from 'node:net';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { createCa, issueNodeCertificate, type CaMaterial } from '../../../src/cluster/pki/certificates.ts';
import type { TlsMaterial } from '../../../src/cluster/pki/tls-files.ts';
import { RoutingLinks, type RoutingLinksOptions } from '../../../src/cluster/routing/routing-links.ts';

export interface TestNode {
  id: string;
  links: RoutingLinks;
  server: Server;
  port: number;
  tls: TlsMaterial;
}

export async function nodeTls(ca: CaMaterial, id: string): Promise<TlsMaterial> {
  const n = await issueNodeCertificate(ca, id);
  return { caPem: ca.certPem, certPem: n.certPem, keyPem: n.keyPem, nodeId: id };
}

/** A TCP server passing connections that start with 0x16 to `accept`. */
export async function listenTls(accept: (socket: import('node:net').Socket, head: Buffer) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (head) => {
      if (head[0] === 0x16) accept(socket, head);
      else socket.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** `perNode`: options for one node only (e.g. an older peer's link features), over `extra`. */
export async function startNodes(
  ids: string[],
  extra: Partial<RoutingLinksOptions> = {},
  ca?: CaMaterial,
  perNode: Record<string, Partial<RoutingLinksOptions>> = {},
): Promise<{ ca: CaMaterial; nodes: Map<string, TestNode> }> {
  const authority = ca ?? (await createCa());
  const nodes = new Map<string, TestNode>();
  const ports = new Map<string, number>();
  for (const id of ids) {
    const tls = await nodeTls(authority, id);
    const links = new RoutingLinks({
      nodeId: id,
      tls,
      addressOf: (peer) => (ports.has(peer) ? { host: '127.0.0.1', port: ports.get(peer) as number } : undefined),
      ...extra,
      ...perNode[id],
    });
    const { server, port } = await listenTls((socket, head) => links.acceptSocket(socket, head));
    ports.set(id, port);
    nodes.set(id, { id, links, server, port, tls });
  }
  return { ca: authority, nodes };
}

export async function stopNodes(nodes: Map<string, TestNode>): Promise<void> {
  for (const n of nodes.values()) {
    n.links.close();
    await new Promise((r) => n.server.close(r));
  }
}

let counter = 0;
export function message(sender: string, receiver: string, content: unknown = { n: counter }): AclMessage {
  counter++;
  return { performative: 'inform', sender, receiver, content, message_id: `m-${counter}`, conversation_id: `c-${sender}` };
}

export function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}
