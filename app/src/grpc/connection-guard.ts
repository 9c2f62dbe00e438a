/**
 * Admission of the sensor API's TCP connections, so that connections which hold a place
 * without using it cannot lock real sensors out:
 *
 * - one client address holds at most `maxConnectionsPerAddress` connections;
 * - at either limit, a new connection takes the place of the oldest one that never made a
 *   call with a valid key (first those that have not even completed the HTTP/2 handshake), and
 *   is refused only when every connection in the way has: calls without a key (health checks,
 *   guesses) earn a connection nothing, so they cannot be used to hold places;
 * - a connection that has not completed the HTTP/2 handshake within `handshakeTimeoutMs` is
 *   closed.
 *
 * Idle connections that did complete the handshake are closed by grpc-js (max_connection_idle_ms).
 */

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  handshakeTimeoutMs: number;
}

/** What the guard uses of a net.Socket. */
export interface GuardedSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Bytes received so far, also once HTTP/2 reads the socket itself. */
  readonly bytesRead: number;
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** Why a connection was closed or refused; the values name the setting that decided it. */
export type ShedReason = 'max_connections' | 'max_connections_per_address' | 'handshake_timeout';
export type RefusalReason = 'max_connections' | 'max_connections_per_address';

export interface ConnectionGuardEvents {
  /** An admitted connection was closed to make room, or for not completing the handshake. */
  shed?(reason: ShedReason, address: string): void;
  /** A new connection was closed on arrival: every connection in its way has authenticated. */
  refused?(reason: RefusalReason, address: string): void;
  /** The number of open connections changed. */
  count?(open: number): void;
}

/**
 * A client's first bytes: the 24-byte HTTP/2 connection preface and the 9-byte header of the
 * SETTINGS frame that must follow it. Node's HTTP/2 session closes a connection whose preface
 * is wrong, so one still open past these bytes has completed the handshake.
 */
export const HTTP2_HANDSHAKE_BYTES = 24 + 9;

type Stage = 'silent' | 'handshaken' | 'authenticated';

interface Tracked {
  socket: GuardedSocket;
  address: string;
  /** `address:port` as grpc-js reports a call's peer. */
  peer: string;
  /** Made a call whose API key was accepted: never shed. */
  authenticated: boolean;
  /** Seen past the handshake (bytesRead only grows, so this never turns back). */
  handshaken: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface AddressConnections {
  count: number;
  /** This address's connections that have not authenticated, in arrival order. */
  uncalled: Set<Tracked>;
}

/**
 * The key connections are counted under: the IP address, with IPv4-mapped IPv6 addresses as
 * IPv4, and IPv6 addresses by their /64 prefix (one host usually has a whole /64 to pick from).
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!remoteAddress.includes(':')) return remoteAddress;
  const [head = '', tail] = remoteAddress.split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16)).join(':')}::/64`;
}

export class ConnectionGuard {
  private readonly connections = new Map<GuardedSocket, Tracked>();
  /**
   * The connections that have not authenticated, in arrival order: the order they give way
   * in. Authenticated ones are never candidates, so a full server of sensors costs nothing to
   * check.
   */
  private readonly uncalled = new Set<Tracked>();
  private readonly byAddress = new Map<string, AddressConnections>();
  private readonly byPeer = new Map<string, Tracked>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionGuardEvents = {},
  ) {}

  get size(): number {
    return this.connections.size;
  }

  sockets(): IterableIterator<GuardedSocket> {
    return this.connections.keys();
  }

  /** Admits a new connection, making room for it if needed; false when it was refused (and closed). */
  admit(socket: GuardedSocket): boolean {
    const address = addressKey(socket.remoteAddress);
    const sameAddress = this.byAddress.get(address);
    if (sameAddress && sameAddress.count >= this.limits.maxConnectionsPerAddress) {
      if (!this.makeRoom(sameAddress.uncalled, 'max_connections_per_address', address, socket)) return false;
    }
    if (this.connections.size >= this.limits.maxConnections) {
      if (!this.makeRoom(this.uncalled, 'max_connections', address, socket)) return false;
    }

    const tracked: Tracked = {
      socket,
      address,
      peer: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
      authenticated: false,
      handshaken: false,
      timer: undefined,
    };
    tracked.timer = setTimeout(() => this.checkHandshake(tracked), this.limits.handshakeTimeoutMs);
    tracked.timer.unref?.();
    this.connections.set(socket, tracked);
    this.uncalled.add(tracked);
    let addressConnections = this.byAddress.get(address);
    if (!addressConnections) this.byAddress.set(address, (addressConnections = { count: 0, uncalled: new Set() }));
    addressConnections.count += 1;
    addressConnections.uncalled.add(tracked);
    this.byPeer.set(tracked.peer, tracked);
    socket.once('close', () => this.forget(tracked));
    this.events.count?.(this.connections.size);
    return true;
  }

  /** Records that the connection of this peer (`address:port`, as grpc-js's getPeer) made a call with a valid key. */
  noteAuthenticated(peer: string): void {
    const tracked = this.byPeer.get(peer);
    if (!tracked || tracked.authenticated) return;
    tracked.authenticated = true;
    clearTimeout(tracked.timer);
    this.uncalled.delete(tracked);
    this.byAddress.get(tracked.address)?.uncalled.delete(tracked);
  }

  /** Stops every handshake timer (the connections themselves are the caller's to close). */
  close(): void {
    for (const tracked of this.connections.values()) clearTimeout(tracked.timer);
  }

  private stage(tracked: Tracked): Stage {
    if (tracked.authenticated) return 'authenticated';
    tracked.handshaken ||= tracked.socket.bytesRead >= HTTP2_HANDSHAKE_BYTES;
    return tracked.handshaken ? 'handshaken' : 'silent';
  }

  /** Closes the oldest silent connection among `candidates`, else the oldest handshaken one; else refuses `newcomer`. */
  private makeRoom(candidates: Set<Tracked>, reason: RefusalReason, address: string, newcomer: GuardedSocket): boolean {
    let oldestHandshaken: Tracked | undefined;
    let victim: Tracked | undefined;
    for (const tracked of candidates) {
      const stage = this.stage(tracked);
      if (stage === 'silent') {
        victim = tracked;
        break;
      }
      if (stage === 'handshaken') oldestHandshaken ??= tracked;
    }
    victim ??= oldestHandshaken;
    if (!victim) {
      newcomer.destroy();
      this.events.refused?.(reason, address);
      return false;
    }
    this.shed(victim, reason);
    return true;
  }

  private checkHandshake(tracked: Tracked): void {
    tracked.timer = undefined;
    if (this.connections.get(tracked.socket) === tracked && this.stage(tracked) === 'silent') this.shed(tracked, 'handshake_timeout');
  }

  private shed(tracked: Tracked, reason: ShedReason): void {
    this.forget(tracked);
    tracked.socket.destroy();
    this.events.shed?.(reason, tracked.address);
  }

  private forget(tracked: Tracked): void {
    if (this.connections.get(tracked.socket) !== tracked) return;
    clearTimeout(tracked.timer);
    this.connections.delete(tracked.socket);
    this.uncalled.delete(tracked);
    const addressConnections = this.byAddress.get(tracked.address);
    if (addressConnections) {
      addressConnections.count -= 1;
      addressConnections.uncalled.delete(tracked);
      if (addressConnections.count === 0) this.byAddress.delete(tracked.address);
    }
    if (this.byPeer.get(tracked.peer) === tracked) this.byPeer.delete(tracked.peer);
    this.events.count?.(this.connections.size);
  }
}
