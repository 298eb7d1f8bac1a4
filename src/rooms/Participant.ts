/**
 * A client as the room logic sees it: one signalling connection, maybe logged in.
 * signalling/Peer implements it over a WebSocket.
 */
import type { NotificationMethod, NotificationParams } from '../protocol/index.js';
import type { UserRecord } from '../store/Store.js';

export interface Participant {
  /** Unique per connection. */
  readonly id: string;
  /** The logged-in user, if any; anonymous participants may watch but not chat or host. */
  readonly user: UserRecord | undefined;
  /** Sends a notification; a no-op after the connection closed. */
  notify<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void;
}
