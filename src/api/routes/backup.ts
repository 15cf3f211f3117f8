// GET /api/v1/backup: an online copy of this node's database, streamed (as `consul snapshot save` reads
// one), for `caxton backup create FILE`. Admin only: the file holds every module, API key hash and the audit
// log. The copy is taken whole into a private temporary file first (consistent while the node serves), then
// streamed and deleted, however the response ends.
import { createReadStream, type ReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { CaxtonError } from '../../errors.ts';
import type { NodeServices } from '../../node/services.ts';
import type { BackupServices } from '../backup-services.ts';
import { releaseWhenDone } from '../client-gone.ts';

export const backupRoutes: FastifyPluginAsync<{ backups?: BackupServices; services: NodeServices }> = async (app, { backups, services }) => {
  const nodeId = services.nodeId;
  app.get(
    '/api/v1/backup',
    {
      config: { permission: 'backup:create' },
      schema: {
        summary: "An online backup of this node's SQLite database (application/vnd.sqlite3); 409 while another is being taken",
        tags: ['node'],
        produces: ['application/vnd.sqlite3'],
      },
    },
    async (request, reply) => {
      if (!backups) throw new CaxtonError('UNAVAILABLE', 'this node has no backups wired to its API');
      const snapshot = await backups.snapshot();
      // A read, so the auth hook does not audit it; but whoever holds a backup holds every key hash: recorded
      // with the security events.
      services.audit({
        principal: request.principal?.id ?? 'unknown',
        action: 'GET /api/v1/backup',
        target: nodeId,
        outcome: 'ok',
        details: { bytes: snapshot.bytes },
        category: 'security',
      });
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      let stream: ReadStream | undefined;
      // Not the response's own 'close': one pipelined behind another never emits it when the socket dies, and
      // the copy (the size of the database) would stay on disk.
      const open = releaseWhenDone(reply.raw, () => {
        stream?.destroy();
        snapshot.release();
      });
      if (!open) {
        reply.hijack(); // the client is gone: the copy is deleted, there is no one to answer
        return;
      }
      stream = createReadStream(snapshot.path);
      stream.once('close', () => snapshot.release());
      return reply
        .header('content-type', 'application/vnd.sqlite3')
        .header('content-length', String(snapshot.bytes))
        .header('content-disposition', `attachment; filename="caxton-${nodeId.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.db"`)
        .header('cache-control', 'no-store')
        .send(stream);
    },
  );
};
