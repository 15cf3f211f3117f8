// A small REST client for end-to-end tests: Bearer key, JSON in and out, status and body returned whatever
// they are (tests assert on errors as much as on successes).

export interface ApiReply {
  status: number;
  body: any;
}

export type ApiCall = (path: string, init?: RequestInit & { json?: unknown }) => Promise<ApiReply>;

/** `target()` is read on every call, so a test may restart its node on a new URL or key. */
export function apiClient(target: () => { url: string; key: string }): {
  api: ApiCall;
  deploy: (name: string, module: Uint8Array, extra?: Record<string, unknown>) => Promise<ApiReply>;
} {
  const api: ApiCall = async (path, init = {}) => {
    const { url, key } = target();
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) };
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(`${url}${path}`, { ...init, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (Prometheus text, an empty 204): keep the text.
    }
    return { status: response.status, body: parsed };
  };
  const deploy = (name: string, module: Uint8Array, extra: Record<string, unknown> = {}) =>
    api('/api/v1/agents', { method: 'POST', json: { name, module: Buffer.from(module).toString('base64'), ...extra } });
  return { api, deploy };
}
