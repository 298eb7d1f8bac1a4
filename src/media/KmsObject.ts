/**
 * A KMS object as Theia holds it. kurento-client 7.3.0's media objects are thenables (an `await`
 * of one hands back a partial copy), and a failed (un)subscription is emitted as `error` on them
 * (unhandled, it ends the process): see KmsConnection's class comment.
 */
import type { KurentoMediaObject } from 'kurento-client';

/**
 * A KMS object (MediaPipeline, WebRtcEndpoint, …) as Theia holds it: the kurento-client proxy in a
 * plain wrapper that is not a thenable (see the class comment of KmsConnection).
 */
export class KmsObject {
  readonly proxy: KurentoMediaObject;

  /** @param onError receives subscribe/unsubscribe failures kurento-client emits as `error`. */
  constructor(proxy: KurentoMediaObject, onError: (err: unknown) => void) {
    this.proxy = proxy;
    KmsObject.#listenForErrors(proxy, onError);
    // a successful release() removes every listener, ours too, and then unsubscribes each KMS event,
    // which fails for the released object: listen again at once ('release' itself is kept)
    proxy.on('release', () => KmsObject.#listenForErrors(proxy, onError));
  }

  static #listenForErrors(proxy: KurentoMediaObject, onError: (err: unknown) => void): void {
    if (proxy.listeners('error').includes(onError)) return;
    // kurento-client's 'newListener' hook would refuse 'error' (not a KMS event type) by throwing
    KmsObject.#withHooksDetached(proxy, () => proxy.on('error', onError));
  }

  /**
   * Runs `change` with kurento-client's 'newListener' and 'removeListener' hooks (which subscribe
   * and unsubscribe KMS events, and throw for names that are not KMS events) taken off the proxy.
   */
  static #withHooksDetached(proxy: KurentoMediaObject, change: () => void): void {
    type Hook = (...args: unknown[]) => void;
    const onNew = proxy.listeners('newListener') as Hook[];
    const onRemove = proxy.listeners('removeListener') as Hook[];
    proxy.removeAllListeners('newListener');
    proxy.removeAllListeners('removeListener');
    try {
      change();
    } finally {
      for (const hook of onRemove) proxy.on('removeListener', hook); // no 'newListener' hook yet: not seen
      for (const hook of onNew) proxy.on('newListener', hook);
    }
  }

  /**
   * Drops every KMS event listener without sending `unsubscribe`: for an object about to be
   * released, whose subscriptions KMS drops with it. (kurento-client would otherwise unsubscribe
   * each event after the release, one request per event, failing if the connection is gone.)
   */
  forgetEvents(): void {
    const proxy = this.proxy;
    KmsObject.#withHooksDetached(proxy, () => {
      for (const event of proxy.eventNames()) {
        if (typeof event !== 'string' || event.startsWith('_') || event === 'error' || event === 'release')
          continue;
        proxy.removeAllListeners(event);
      }
    });
  }

  /** The KMS object id, e.g. `<uuid>_kurento.MediaPipeline/<uuid>_kurento.WebRtcEndpoint`. */
  get id(): string {
    return this.proxy.id;
  }

  /** Subscribes to a KMS event (kurento-client sends `subscribe` on the first listener). */
  on(event: string, listener: (data: never) => void): this {
    this.proxy.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
}
