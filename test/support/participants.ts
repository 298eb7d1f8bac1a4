/**
 * A Participant that records its notifications, for unit tests of rooms/.
 */
import { randomUUID } from 'node:crypto';
import type { Participant } from '../../src/rooms/Participant.js';
import type { NotificationMethod, NotificationParams } from '../../src/protocol/index.js';
import type { UserRecord } from '../../src/store/Store.js';

export interface Recorded {
  method: NotificationMethod;
  params: unknown;
}

export class RecordingParticipant implements Participant {
  readonly id = randomUUID();
  readonly notifications: Recorded[] = [];

  constructor(readonly user: UserRecord | undefined) {}

  notify<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    this.notifications.push({ method, params });
  }

  /** Params of every notification named `method`, oldest first. */
  received<M extends NotificationMethod>(method: M): Array<NotificationParams[M]> {
    return this.notifications
      .filter((n) => n.method === method)
      .map((n) => n.params as NotificationParams[M]);
  }
}
