// toApiError for what the multipart plugin throws outside a route that names the part: a part declared
// application/json that is not JSON came out as 406 with no field (the plugin's status), though the client's
// Accept header is not what is wrong.
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../src/api/error-reply.ts';

describe('toApiError: multipart plugin errors', () => {
  it('a part declared JSON that is not: 400 INVALID_ARGUMENT naming the body', () => {
    const error = Object.assign(new Error('a request field is not a valid JSON as declared by its Content-Type'), {
      code: 'FST_INVALID_JSON_FIELD_ERROR',
      statusCode: 406,
    });
    expect(toApiError(error)).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^body: /), details: { field: 'body' } } },
      expected: true,
    });
  });

  it('any other 406 keeps its status with the error shape', () => {
    expect(toApiError(Object.assign(new Error('not acceptable'), { statusCode: 406 })).body.error.code).toBe('INVALID_ARGUMENT');
  });
});
