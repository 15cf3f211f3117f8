// What the API key routes need and NodeServices (src/node/services.ts) does not offer: an extension the
// node implements beside NodeServices and passes to buildApi as `apiKeys` (as cluster-services.ts does).
import type { Role } from '../node/services.ts';

/** One API key as listed: never its secret, which exists only in the answer that created it. */
export interface ApiKeyView {
  name: string;
  role: Role;
  created_at: string;
}

export interface CreatedApiKeyView extends ApiKeyView {
  /** The bearer token itself: shown once, only its hash is kept. */
  key: string;
}

export interface ApiKeyServices {
  /** Throws CONFLICT when the name is taken, INVALID_ARGUMENT for a bad role or name. */
  createApiKey(role: Role, name: string): CreatedApiKeyView;
  listApiKeys(): ApiKeyView[];
  /** Refused at once for the next request; throws NOT_FOUND when no key has that name. */
  revokeApiKey(name: string): void;
}
