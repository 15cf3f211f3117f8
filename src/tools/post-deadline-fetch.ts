// A fetch for the streamable HTTP transport whose POST responses end by a deadline. Each POST carries one
// request, answered within its timeout or given up by it; but giving up only sends notifications/cancelled,
// and the response stream of the abandoned call stays open for as long as the server keeps it alive (100
// calls timed out against a server trickling SSE comments left 100 sockets open, measured). Past the deadline
// the response is aborted, which closes its connection. The standalone GET stream (notifications) is left be.

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export class ResponseDeadlinePassed extends Error {
  constructor(readonly deadlineMs: number) {
    super(`the server's response did not end within ${deadlineMs} ms`);
    this.name = 'ResponseDeadlinePassed';
  }
}

export function postDeadlineFetch(deadlineMs: number, base: Fetch = fetch): Fetch {
  return async (url, init) => {
    if (init?.method !== 'POST') return base(url, init);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new ResponseDeadlinePassed(deadlineMs)), deadlineMs);
    timer.unref();
    const signal = init.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    let response: Response;
    try {
      response = await base(url, { ...init, signal });
    } catch (error) {
      clearTimeout(timer);
      throw error;
    }
    if (!response.body) {
      clearTimeout(timer);
      return response;
    }
    // The timer goes once the body ends; when it errors instead, the timer's abort finds nothing left to stop.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => clearTimeout(timer) }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
