/**
 * Stable error codes of the signalling protocol and the REST API (the `code` of every JSON-RPC
 * error and of every `{"error": {...}}` body), and the WebSocket close codes the server uses.
 * doc/protocol.md lists each with its meaning. Imported by the browser build too: no Node imports.
 */

/** Stable error codes. -32xxx are JSON-RPC 2.0's own; the rest are Theia's. */
export enum ErrorCode {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  /** The call needs a logged-in user: `authenticate` first. */
  Unauthenticated = 4001,
  /** Logged in, but not allowed (e.g. not the room's owner). */
  Forbidden = 4003,
  /** The room (or user, or live) does not exist. */
  NotFound = 4004,
  /** Conflicts with stored data (e.g. user name taken). */
  Conflict = 4009,
  /** Not possible in the current state (e.g. `publishVideo` with no live started). */
  InvalidState = 4010,
  /** Too many requests (chat, login). */
  RateLimited = 4029,
  /**
   * `receiveVideo` refused: the room has as many WebRTC viewers as it serves (config
   * MAX_WEBRTC_VIEWERS). Watch its DASH/HLS (`mpdUrl`) instead; the web client switches by itself.
   */
  WebRtcViewerLimit = 4031,
  /** A message larger than the limit. */
  MessageTooLarge = 4013,
  /** KMS rejected a media operation (e.g. an SDP offer it cannot parse). */
  MediaError = 5002,
  /** KMS is not reachable right now. */
  MediaUnavailable = 5003,
}

/**
 * WebSocket close codes the server uses (RFC 6455 §7.4). 1008 and 1013 are the RFC's own; the
 * server closes with them when one connection costs more than its share.
 */
export enum CloseCode {
  /** The server is shutting down. */
  GoingAway = 1001,
  /**
   * The client broke a limit persistently: more than Limits.maxBufferedBytes of replies waited
   * unread, or more than Limits.refusedPer10s requests were refused for a limit.
   */
  PolicyViolation = 1008,
  /** A frame above the hard size limit (1 MiB). */
  MessageTooBig = 1009,
}
