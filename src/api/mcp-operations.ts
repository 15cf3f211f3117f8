// CaxtonOperations in-process, for /mcp: the node's services called as the authenticated principal, each
// call first checked against the principal's role exactly as its REST route is (permissions.ts). A refusal
// and a deploy leave an audit row, as they do through REST.
import type { AuditAggregator } from './audit-aggregator.ts';
import type { ClusterServices } from './cluster-services.ts';
import { roleAllows, type Permission } from './permissions.ts';
import { CaxtonError } from '../errors.ts';
import type { NodeServices, Principal } from '../node/services.ts';
import type { CaxtonOperations } from '../mcp/caxton-operations.ts';

export interface ServiceOperationsOptions {
  services: NodeServices;
  cluster?: ClusterServices;
  principal: Principal;
  audit: AuditAggregator;
}

export function serviceOperations({ services, cluster, principal, audit }: ServiceOperationsOptions): CaxtonOperations {
  const allow = (permission: Permission, action: string): void => {
    if (roleAllows(principal.role, permission)) return;
    audit.record(
      { principal: principal.id, action: `mcp ${action}`, outcome: 'denied', details: { code: 'PERMISSION_DENIED', permission }, category: 'denial' },
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
      allow('agents:read', 'list_agents');
      return services.listAgents(filter);
    },
    async getAgent(name) {
      allow('agents:read', 'get_agent');
      return services.getAgent(name);
    },
    async deployAgent(spec, module) {
      allow('agents:write', 'deploy_agent');
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
      allow('messages:send', 'send_message');
      const result = await services.sendMessage(message, { principal: principal.id, ...options });
      audit.record({ principal: principal.id, action: 'mcp send_message', outcome: 'ok' }, 'count');
      return result;
    },
    async getConversation(id) {
      allow('messages:read', 'get_conversation');
      return services.getConversation(id);
    },
    async clusterStatus() {
      allow('cluster:read', 'cluster_status');
      return needCluster().clusterStatus();
    },
    async clusterMembers() {
      allow('cluster:read', 'list_members');
      return needCluster().clusterMembers();
    },
    async agentLogs(name, options) {
      allow('agents:read', 'agent_logs');
      return services.agentLogs(name, options);
    },
  };
}
