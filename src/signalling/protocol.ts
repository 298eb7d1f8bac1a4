/**
 * The signalling protocol shared by the server and the web client: JSON-RPC 2.0 over the WebSocket
 * at `/ws` (https://www.jsonrpc.org/specification), kurento-room style names — requests are verbs,
 * notifications are past tense or nouns. doc/protocol.md is the prose version of this file.
 *
 * This file is imported by the browser build too: no Node imports here.
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
  /** A message larger than the limit. */
  MessageTooLarge = 4013,
  /** KMS rejected a media operation (e.g. an SDP offer it cannot parse). */
  MediaError = 5002,
  /** KMS is not reachable right now. */
  MediaUnavailable = 5003,
}

/** Which of a peer's WebRTC connections an ICE candidate belongs to. */
export type EndpointKind = 'publish' | 'receive';

/** An ICE candidate as RTCIceCandidateInit carries it (W3C WebRTC, RFC 8839 candidate-attribute). */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface PublicUser {
  id: string;
  name: string;
}

/** A room as the room list and room page show it. */
export interface RoomSummary {
  id: string;
  title: string;
  host: PublicUser;
  live: boolean;
  liveId: string | null;
  viewers: number;
}

export interface ChatMessage {
  id: string;
  roomId: string;
  user: PublicUser;
  text: string;
  /** ms since the Unix epoch */
  sentAt: number;
}

export type Role = 'host' | 'viewer';

/** Results of each request, by method name. */
export interface RequestResults {
  authenticate: { user: PublicUser };
  joinRoom: { room: RoomSummary; role: Role; messages: ChatMessage[] };
  leaveRoom: Record<string, never>;
  startLive: { liveId: string; liveCode: string };
  stopLive: Record<string, never>;
  publishVideo: { sdpAnswer: string };
  receiveVideo: { sdpAnswer: string };
  onIceCandidate: Record<string, never>;
  sendMessage: { message: ChatMessage };
}

/** Params of each request, by method name. */
export interface RequestParams {
  authenticate: { token: string };
  joinRoom: { roomId: string };
  leaveRoom: Record<string, never>;
  startLive: Record<string, never>;
  stopLive: Record<string, never>;
  publishVideo: { sdpOffer: string };
  receiveVideo: { sdpOffer: string };
  onIceCandidate: { endpoint: EndpointKind; candidate: IceCandidateInit };
  sendMessage: { text: string };
}

export type Method = keyof RequestParams;

/** Why a live ended, in `liveEnded` and `roomClosed`. */
export type EndReason = 'stopped' | 'hostLeft' | 'mediaServerLost' | 'mediaError' | 'shutdown';

/** Params of each server → client notification, by method name. */
export interface NotificationParams {
  iceCandidate: { endpoint: EndpointKind; candidate: IceCandidateInit };
  liveStarted: { roomId: string; liveId: string };
  liveEnded: { roomId: string; liveId: string; reason: EndReason };
  viewerCountChanged: { roomId: string; viewers: number };
  messageReceived: { message: ChatMessage };
  mediaError: { endpoint?: EndpointKind; code: ErrorCode; message: string };
  roomClosed: { roomId: string; reason: EndReason };
  /**
   * The login this connection used ended (logout elsewhere, or expiry): the connection is now
   * anonymous and has left its room (a host's live ended); join again to keep watching.
   */
  sessionEnded: { reason: SessionEndReason };
}

/** Why a connection's login ended, in `sessionEnded`. */
export type SessionEndReason = 'loggedOut' | 'expired';

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

export type NotificationMethod = keyof NotificationParams;

/** Limits a client should know about. */
export const Limits = {
  /** Largest signalling frame the server accepts, bytes. */
  maxMessageBytes: 64 * 1024,
  /** Longest chat message, characters (after trimming). */
  maxChatChars: 500,
  /** Chat messages replayed on `joinRoom`. */
  chatReplay: 100,
  /** Requests one connection may have unanswered at once; more are refused with RateLimited. */
  maxInFlight: 16,
  /** Unread bytes the server queues for one connection before closing it with 1008. */
  maxBufferedBytes: 1024 * 1024,
  /** Costly requests (joinRoom, startLive, publishVideo, receiveVideo) per connection per 10 s. */
  costlyPer10s: 30,
  /** Requests refused for a limit per connection per 10 s before the server closes it with 1008. */
  refusedPer10s: 100,
} as const;
