import { request, type Agent } from 'node:https';
import * as grpc from '@grpc/grpc-js';

/**
 * How a client checks a TLS endpoint: the name its certificate must be for, whatever address
 * the client dials (a DNS name, or 127.0.0.1 in tests), and the roots it trusts.
 */
export interface ClientTls {
  /** Sent as SNI and checked against the certificate (also the gRPC authority). */
  serverName: string;
  /** PEM roots to trust instead of the public CAs Node ships (Caddy's local CA); absent: the public CAs. */
  ca?: string;
}

/** What a GET over HTTPS answered: status and body, or no answer and why. */
export type HttpsAnswer = { status: number; body: string } | { unreachable: string };

/**
 * `ECONNREFUSED`, or the code with what it means when the message says more: for a failed TLS
 * handshake, OpenSSL's reason (`EPROTO (tlsv1 alert internal error)`: the server has no
 * certificate for the name; `EPROTO (wrong version number)`: the port does not speak TLS).
 */
export function describeSocketError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (!code) return message ?? String(error);
  const openSsl = message?.match(/:SSL routines:[^:]*:([^:]+)/);
  if (openSsl) return `${code} (${openSsl[1]})`;
  return message && !message.includes(code) ? `${code} (${message})` : code;
}

/**
 * GET `url` over HTTPS with `tls`; never rejects. Pass a keep-alive `agent` to reuse
 * connections across calls (a browser or a poller does), none for a connection per call.
 */
export function httpsGet(url: string, options: { tls: ClientTls; timeoutMs: number; agent?: Agent; headers?: Record<string, string> }): Promise<HttpsAnswer> {
  const { tls } = options;
  const signal = AbortSignal.timeout(options.timeoutMs);
  const reason = (error: unknown) => (signal.aborted ? `TimeoutError (no answer within ${options.timeoutMs} ms)` : describeSocketError(error));
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'GET',
        servername: tls.serverName,
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
        agent: options.agent ?? false,
        headers: options.headers ?? {},
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => resolve({ unreachable: reason(error) }));
      },
    );
    req.on('error', (error) => resolve({ unreachable: reason(error) }));
    req.end();
  });
}

/**
 * Credentials and channel options of a gRPC client: over TLS with `tls` (the certificate checked
 * for `serverName`, which is also the :authority), cleartext HTTP/2 (h2c) without.
 */
export function grpcChannel(tls: ClientTls | undefined): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  return {
    credentials: grpc.credentials.createSsl(tls.ca !== undefined ? Buffer.from(tls.ca) : null),
    options: { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName },
  };
}
