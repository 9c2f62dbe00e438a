import { request } from 'node:http';

/**
 * An HTTP POST that is certainly in flight on the server and cannot finish until the test
 * says so: it asks `Expect: 100-continue`, and the server's "100 Continue" proves it has read
 * the headers and is handling the request; the body is sent only on release().
 */
export interface HeldRequest {
  release(): void;
  /** The response, or the error that ended the request (e.g. the socket closed). */
  result: Promise<{ status: number; location?: string } | { error: string }>;
}

export async function startHeldPost(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<HeldRequest> {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    agent: false,
    headers: { ...headers, expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) },
  });
  const result = new Promise<{ status: number; location?: string } | { error: string }>((resolve) => {
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve({
        status: response.statusCode ?? 0,
        ...(response.headers.location ? { location: response.headers.location } : {}),
      }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    req.on('error', (error) => resolve({ error: error.message }));
  });
  const continued = new Promise<void>((resolve, reject) => {
    req.once('continue', () => resolve());
    void result.then((outcome) => reject(new Error(`answered before 100 Continue: ${JSON.stringify(outcome)}`)));
  });
  req.flushHeaders();
  await continued;
  return { release: () => req.end(body), result };
}
