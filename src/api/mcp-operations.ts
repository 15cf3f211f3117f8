// CaxtonOperations in-process, for /mcp: the node's services called as the authenticated principal, each
// call first checked against the principal's role for the tool's permission (TOOL_PERMISSIONS, the same as its
// REST route's). A refusal
// and a deploy leave an audit row, as they do through REST.
import type { AnswerSlots } from './answer-slots.ts';
import type { AuditAggregator } from './audit-aggregator.ts';
import type { ClusterServices } from './cluster-services.ts';
import { roleAllows } from './permissions.ts';
import { CaxtonError } from '../errors.ts';
import type { NodeServices, Principal } from '../node/services.ts';
import { TOOL_PERMISSIONS, type CaxtonOperations, type ToolName } from '../mcp/caxton-operations.ts';

export interface ServiceOperationsOptions {
  services: NodeServices;
  cluster?: ClusterServices;
  principal: Principal;
  audit: AuditAggregator;
  /** The bound on large answers the REST reads share (api.max_answers_in_flight). */
  answers?: AnswerSlots;
}

export function serviceOperations({ services, cluster, principal, audit, answers }: ServiceOperationsOptions): CaxtonOperations {
  const allow = (tool: ToolName): void => {
    const permission = TOOL_PERMISSIONS[tool];
    if (roleAllows(principal.role, permission)) return;
    audit.record(
      { principal: principal.id, action: `mcp ${tool}`, outcome: 'denied', details: { code: 'PERMISSION_DENIED', permission }, category: 'denial' },
      'flood',
    );
    throw new CaxtonError('PERMISSION_DENIED', `role '${principal.role}' lacks the permission '${permission}'`, {
      role: principal.role,
      permission,
    });
  };
  const needCluster = (): ClusterServices => {
    if (!cluster) throw new CaxtonError('UNAVAILABLE', 'this node has no cluster layer wired to its API');
    return cluster;
  };

  return {
    async listAgents(filter) {
      allow('list_agents');
      return services.listAgents(filter);
    },
    async getAgent(name) {
      allow('get_agent');
      return services.getAgent(name);
    },
    async deployAgent(spec, module) {
      allow('deploy_agent');
      try {
        const agent = await services.deployAgent(spec, module);
        audit.record({ principal: principal.id, action: 'mcp deploy_agent', target: spec.name, outcome: 'ok' }, 'each');
        return agent;
      } catch (error) {
        const code = error instanceof CaxtonError ? error.code : 'INTERNAL';
        audit.record({ principal: principal.id, action: 'mcp deploy_agent', target: spec.name, outcome: 'error', details: { code } }, 'each');
        throw error;
      }
    },
    async readModuleFile() {
      throw new CaxtonError(
        'INVALID_ARGUMENT',
        'path: not accepted over /mcp (the node reads no file a remote client names); send module_base64, or use `caxton mcp serve --stdio` where path is a file of your machine',
        { field: 'path' },
      );
    },
    async sendMessage(message, options) {
      allow('send_message');
      const result = await services.sendMessage(message, { principal: principal.id, ...options });
      audit.record({ principal: principal.id, action: 'mcp send_message', outcome: 'ok' }, 'count');
      return result;
    },
    async getConversation(id, options) {
      allow('get_conversation');
      const release = answers === undefined ? () => {} : await answers.acquire();
      if (release === undefined) throw new CaxtonError('UNAVAILABLE', answers!.fullMessage);
      try {
        return await services.getConversation(id, options);
      } finally {
        release();
      }
    },
    async clusterStatus() {
      allow('cluster_status');
      return needCluster().clusterStatus();
    },
    async clusterMembers() {
      allow('list_members');
      return needCluster().clusterMembers();
    },
    async agentLogs(name, options) {
      allow('agent_logs');
      return services.agentLogs(name, options);
    },
  };
}
