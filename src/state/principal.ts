// Who a caller is, as the API key store and the audit log know it; the API's auth decides it.

export type Role = 'admin' | 'operator' | 'deployer' | 'sender' | 'viewer';

/** How a caller proved who it is: rate limits are per (via, id), so a JWT subject never shares an API key's budget. */
export type CredentialKind = 'api-key' | 'jwt' | 'certificate' | 'none';

export interface Principal {
  id: string;
  role: Role;
  via?: CredentialKind;
}
