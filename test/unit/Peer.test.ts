import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/logger.js';
import { Peer } from '../../src/signalling/Peer.js';
import { CloseCode } from '../../src/protocol/index.js';

/** The part of a ws WebSocket a Peer uses, with a `bufferedAmount` the test sets. */
class StubSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;

  send(data: string): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = WebSocket.CLOSING;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = WebSocket.CLOSED;
  }
}

test('a Peer whose client leaves more than maxBufferedBytes unread is closed with 1008, then dropped', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const socket = new StubSocket();
  const peer = new Peer(socket as unknown as WebSocket, createLogger('test'), undefined, 1000);
  peer.notify('viewerCountChanged', { roomId: 'r', viewers: 1 });
  socket.bufferedAmount = 1000; // at the limit: still sent
  peer.notify('viewerCountChanged', { roomId: 'r', viewers: 2 });
  assert.equal(socket.sent.length, 2);
  socket.bufferedAmount = 1001;
  peer.notify('viewerCountChanged', { roomId: 'r', viewers: 3 });
  assert.equal(socket.sent.length, 2, 'nothing more is queued for a client that does not read');
  assert.equal(socket.closedWith?.code, CloseCode.PolicyViolation);
  assert.equal(peer.open, false);
  // the close frame waits behind the unread data: the socket is dropped soon after
  assert.equal(socket.terminated, false);
  t.mock.timers.tick(1000);
  assert.equal(socket.terminated, true);
});
