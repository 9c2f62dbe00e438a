import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  addressKey, ConnectionGuard, HTTP2_HANDSHAKE_BYTES, type ConnectionLimits, type GuardedSocket, type RefusalReason, type ShedReason,
} from './connection-guard.js';

let nextPort = 40000;

/** A socket as the guard sees one: an address, a byte count, destroy() and a close event. */
class FakeSocket extends EventEmitter implements GuardedSocket {
  readonly remotePort = nextPort++;
  bytesRead = 0;
  destroyed = false;
  constructor(
    readonly remoteAddress: string,
    readonly name: string,
  ) {
    super();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }
  get peer(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }
}

function setup(limits: Partial<ConnectionLimits>) {
  const shed: Array<[ShedReason, string]> = [];
  const refused: Array<[RefusalReason, string]> = [];
  const guard = new ConnectionGuard(
    { maxConnections: 1000, maxConnectionsPerAddress: 1000, handshakeTimeoutMs: 60_000, ...limits },
    { shed: (reason, address) => shed.push([reason, address]), refused: (reason, address) => refused.push([reason, address]) },
  );
  const open = (name: string, address = '10.0.0.1', stage: 'silent' | 'handshaken' | 'authenticated' = 'silent') => {
    const socket = new FakeSocket(address, name);
    const admitted = guard.admit(socket);
    if (stage !== 'silent') socket.bytesRead = HTTP2_HANDSHAKE_BYTES + 20;
    if (stage === 'authenticated') guard.noteAuthenticated(socket.peer);
    return { socket, admitted };
  };
  return { guard, shed, refused, open };
}

describe('ConnectionGuard', () => {
  test('at max_connections the oldest silent connection gives way, then the oldest handshaken, never one that authenticated', () => {
    const { guard, shed, refused, open } = setup({ maxConnections: 4 });
    const caller = open('caller', '10.0.0.1', 'authenticated');
    const handshaken = open('handshaken', '10.0.0.2', 'handshaken');
    const silentOld = open('silent old', '10.0.0.3');
    const silentNew = open('silent new', '10.0.0.4');
    assert.equal(guard.size, 4);

    assert.equal(open('first newcomer', '10.0.0.9', 'authenticated').admitted, true);
    assert.equal(silentOld.socket.destroyed, true);
    assert.equal(silentNew.socket.destroyed, false);
    assert.equal(open('second newcomer', '10.0.0.9', 'authenticated').admitted, true);
    assert.equal(silentNew.socket.destroyed, true);
    assert.equal(open('third newcomer', '10.0.0.9', 'authenticated').admitted, true);
    assert.equal(handshaken.socket.destroyed, true);
    assert.deepEqual(shed, [['max_connections', '10.0.0.3'], ['max_connections', '10.0.0.4'], ['max_connections', '10.0.0.2']]);

    const refusedOne = open('refused', '10.0.0.5');
    assert.equal(refusedOne.admitted, false);
    assert.equal(refusedOne.socket.destroyed, true);
    assert.equal(caller.socket.destroyed, false);
    assert.deepEqual(refused, [['max_connections', '10.0.0.5']]);
    assert.equal(guard.size, 4);
  });

  test('one address holds at most max_connections_per_address: its own silent connections give way, other addresses are untouched', () => {
    const { guard, shed, refused, open } = setup({ maxConnectionsPerAddress: 2 });
    const other = open('other address', '10.0.0.2');
    const first = open('first', '10.0.0.1');
    const second = open('second', '10.0.0.1', 'authenticated');
    assert.equal(open('third', '10.0.0.1', 'authenticated').admitted, true);
    assert.equal(first.socket.destroyed, true);
    assert.equal(other.socket.destroyed, false);
    assert.deepEqual(shed, [['max_connections_per_address', '10.0.0.1']]);

    assert.equal(open('fourth', '10.0.0.1').admitted, false);
    assert.deepEqual(refused, [['max_connections_per_address', '10.0.0.1']]);
    assert.equal(second.socket.destroyed, false);
    assert.equal(open('another address', '10.0.0.3').admitted, true);
    assert.equal(guard.size, 4);
  });

  test('a closed connection frees its place, under its address too', async () => {
    const { guard, refused, open } = setup({ maxConnections: 2, maxConnectionsPerAddress: 1 });
    const a = open('a', '10.0.0.1', 'authenticated');
    open('b', '10.0.0.2', 'authenticated');
    assert.equal(open('c', '10.0.0.1').admitted, false);
    a.socket.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(guard.size, 1);
    assert.equal(open('d', '10.0.0.1').admitted, true);
    assert.equal(refused.length, 1);
  });

  test('a connection that has not completed the HTTP/2 handshake by handshake_timeout_ms is closed', (context) => {
    context.mock.timers.enable({ apis: ['setTimeout'] });
    const { guard, shed, open } = setup({ handshakeTimeoutMs: 1000 });
    const silent = open('silent');
    const partial = open('partial');
    partial.socket.bytesRead = HTTP2_HANDSHAKE_BYTES - 1;
    const handshaken = open('handshaken', '10.0.0.1', 'handshaken');
    const caller = open('caller', '10.0.0.1', 'authenticated');
    context.mock.timers.tick(999);
    assert.equal(silent.socket.destroyed, false);
    context.mock.timers.tick(1);
    assert.deepEqual(
      [silent, partial, handshaken, caller].map(({ socket }) => socket.destroyed),
      [true, true, false, false],
    );
    assert.deepEqual(shed, [['handshake_timeout', '10.0.0.1'], ['handshake_timeout', '10.0.0.1']]);
    assert.equal(guard.size, 2);
    guard.close();
  });

  test('authenticated calls are matched to connections by the peer grpc-js reports; an unknown peer changes nothing', () => {
    const { guard, open } = setup({ maxConnections: 1 });
    const only = open('only');
    guard.noteAuthenticated('10.0.0.1:1');
    assert.equal(open('newcomer').admitted, true);
    assert.equal(only.socket.destroyed, true);
  });
});

describe('addressKey', () => {
  test('IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2::99'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey(undefined), 'unknown');
  });
});
