// A fetch for the streamable HTTP transport whose response bodies stop at a byte bound: the SDK reads a
// response whole (JSON) or as a stream (SSE) with no limit of its own, so a server answering gigabytes would
// otherwise be buffered. Every POST carries one request, so its response holds one result: the bound is that
// of a result plus framing. The standalone GET stream carries only notifications, bounded the same way per
// connection, after which the connection is dropped and opened again on the next call.

export class ResponseTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`the server's response exceeded ${limitBytes} bytes`);
    this.name = 'ResponseTooLarge';
  }
}

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** `onTooLarge` runs once per response that crossed `limitBytes`, before the body errors. */
export function sizeLimitedFetch(limitBytes: number, onTooLarge: (error: ResponseTooLarge) => void, base: Fetch = fetch): Fetch {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body) return response;
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > limitBytes) {
      await response.body.cancel().catch(() => {});
      const error = new ResponseTooLarge(limitBytes);
      onTooLarge(error);
      throw error;
    }
    let seen = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > limitBytes) {
            const error = new ResponseTooLarge(limitBytes);
            onTooLarge(error);
            controller.error(error);
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
