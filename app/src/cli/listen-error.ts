import { UserError } from '../errors.js';

/**
 * A service that cannot bind its port is an operator's problem, not a bug: turns Node's
 * listen errors (EADDRINUSE, EACCES, EADDRNOTAVAIL) into a UserError naming the address.
 * Anything else is returned unchanged.
 */
export function explainListenError(error: unknown, service: string): unknown {
  const { code, address, port } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown };
  if (error instanceof UserError || typeof code !== 'string') return error;
  const where = address !== undefined && port !== undefined ? `${String(address)}:${String(port)}` : 'its address';
  if (code === 'EADDRINUSE') {
    return new UserError(
      `${service} cannot listen on ${where}: the port is already in use`,
      'stop the process using it, or choose another port (--port, or the TK_*_PORT variables)',
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new UserError(
      `${service} cannot listen on ${where} (${code})`,
      'use a port above 1023 and a host address of this machine (0.0.0.0 for all)',
    );
  }
  return error;
}
