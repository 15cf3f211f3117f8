// The API's rate limits from the node's `api` settings: api.rate_limit_roles names the message-path roles'
// budgets, every other role gets api.rate_limit_max.
import type { Config } from '../config/config.ts';
import { parseRoleBudget, RATE_LIMIT_ROLES } from '../config/schema.ts';
import type { Role } from '../node/services.ts';
import type { AuthLimits } from './auth.ts';

export function authLimitsOf(api: Config['api']): AuthLimits {
  const perRole = Object.fromEntries(RATE_LIMIT_ROLES.map((role) => [role, api.rate_limit_max])) as Record<Role, number>;
  for (const entry of api.rate_limit_roles) {
    const budget = parseRoleBudget(entry);
    if (budget) perRole[budget.role] = budget.max;
  }
  return {
    windowMs: api.rate_limit_window_ms,
    perRole,
    authFailuresMax: api.auth_failures_max,
    authFailureWindowMs: api.auth_failure_window_ms,
    maxKeys: api.rate_limit_keys_max,
  };
}
