/**
 * The part of kurento-client 7.3.0 (CommonJS, untyped) that media/ uses. Methods of remote objects
 * are called by name through media/kurento.ts, which always passes a node-style callback
 * (the promise API swallows server errors: shared/kms-protocol/README.md, pitfall 1).
 */
declare module 'kurento-client' {
  import type { EventEmitter } from 'node:events';

  /** An error as kurento-client reports a JSON-RPC error from KMS. */
  export interface KurentoRpcError extends Error {
    code?: number;
    data?: { type?: string; [k: string]: unknown };
  }

  export type KurentoCallback<T> = (error: KurentoRpcError | null | undefined, result: T) => void;

  /** A proxy of a KMS object (MediaPipeline, WebRtcEndpoint, …). */
  export interface KurentoMediaObject extends EventEmitter {
    readonly id: string;
  }

  /** The reconnecting WebSocket wrapper (reconnect-core) behind a client. */
  export interface ReconnectEmitter extends EventEmitter {
    connected: boolean;
    reconnect: boolean;
  }

  export interface KurentoClientInstance extends EventEmitter {
    create(type: string, callback: KurentoCallback<KurentoMediaObject>): unknown;
    create(
      type: string,
      params: Record<string, unknown>,
      callback: KurentoCallback<KurentoMediaObject>,
    ): unknown;
    getMediaobjectById(id: string, callback: KurentoCallback<KurentoMediaObject>): unknown;
    getServerManager(callback: KurentoCallback<KurentoMediaObject>): unknown;
    close(): void;
    readonly _re: ReconnectEmitter;
  }

  export interface KurentoClientOptions {
    failAfter?: number;
    enableTransactions?: boolean;
    strict?: boolean;
    request_timeout?: number;
    response_timeout?: number;
    duplicates_timeout?: number;
  }

  interface KurentoClientFactory {
    (
      uri: string,
      options: KurentoClientOptions,
      callback: KurentoCallback<KurentoClientInstance>,
    ): KurentoClientInstance;
    getComplexType(
      name: 'IceCandidate',
    ): (init: { candidate: string; sdpMid: string; sdpMLineIndex: number }) => unknown;
  }

  const kurentoClient: KurentoClientFactory;
  export default kurentoClient;
}
