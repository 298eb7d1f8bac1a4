/**
 * The wire types of the signalling protocol shared by the server and the web client: JSON-RPC 2.0 over the WebSocket
 * at `/ws` (https://www.jsonrpc.org/specification), kurento-room style names — requests are verbs,
 * notifications are past tense or nouns. doc/protocol.md is the prose version of this file.
 *
 * This file is imported by the browser build too: no Node imports here.
 */
import type { ErrorCode } from './errors.js';

/**
 * How the stage is mixed for viewers while co-hosting: `grid` puts the members side by side (KMS
 * Composite), `pip` shows the host full frame with each guest in a window (KMS AlphaBlending).
 */
export type Layout = 'grid' | 'pip';

/**
 * Which of a participant's WebRTC connections a message is about: `publish` (its own camera),
 * `receive` (the program: what viewers watch), or `receive:<userId>` (a stage member watching
 * another member directly).
 */
export type EndpointKind = 'publish' | 'receive' | `receive:${string}`;

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

/** A stage member's part: the room's owner hosts, accepted viewers are guests. */
export type StageRole = 'host' | 'guest';

/** Someone on the stage, with the LiveId of their contribution (the seed's API). */
export interface StageMember {
  userId: string;
  name: string;
  role: StageRole;
  liveId: string;
}

/** The stage as everyone in the room sees it. */
export interface StageState {
  /** Whether logged-in viewers may ask to join the stage (the host opens and closes it). */
  coHosting: boolean;
  /** The host first, then guests in the order they came on. Empty while the room is not live. */
  stage: StageMember[];
  layout: Layout;
  faceDetection: boolean;
}

/** A viewer's request to join the stage, as the host sees it. */
export interface CoHostRequest {
  userId: string;
  name: string;
  /** ms since the Unix epoch */
  requestedAt: number;
}

/** Why a guest left the stage, in `coHostEnded`. */
export type CoHostEndReason = 'left' | 'removed' | 'disconnected' | 'liveEnded';

/** A room as the room list and room page show it. */
export interface RoomSummary extends StageState, EgressState {
  id: string;
  title: string;
  host: PublicUser;
  live: boolean;
  liveId: string | null;
  viewers: number;
}

/** The DASH/HLS output of a live (the program through ffmpeg), for viewers who do not use WebRTC. */
export interface EgressState {
  /** The MPEG-DASH manifest (path on this server), once its first segment exists; else null. */
  mpdUrl: string | null;
  /** The HLS master playlist over the same segments, likewise. */
  hlsUrl: string | null;
}

/** An RTMP push's state: `failed` and `closed` are final; `retrying` comes back to `connecting`. */
export type DestinationState = 'connecting' | 'live' | 'retrying' | 'failed' | 'closed';

/** The DASH/HLS output's state: `ready` once its first segment exists (then `mpdUrl` is set). */
export type DashStatus = 'starting' | 'ready' | 'retrying' | 'failed' | 'closed';

/** One RTMP destination of a live, as its host sees it. */
export interface DestinationStatus {
  /** The stored destination's id, or `server-<n>` for one of the server's (config RTMP_DESTINATIONS). */
  id: string;
  /** `rtmp://host/app/***`: the stream key never leaves the server. */
  url: string;
  state: DestinationState;
  /** Why it is retrying or failed (ffmpeg's last error line, stream key redacted). */
  reason?: string;
}

/** Every egress of a live, as its host sees it (`egressStatus`). */
export interface EgressStatus {
  dash: DashStatus;
  /** Why DASH is retrying or failed. */
  dashReason?: string;
  destinations: DestinationStatus[];
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
  /**
   * `requests`: pending co-host requests, oldest first, for the host (empty for others).
   * `publishing`: this connection carries the live's camera (a host coming back within
   * HOST_GRACE_MS after its connection dropped): send it with `publishVideo`, no `startLive`.
   */
  joinRoom: {
    room: RoomSummary;
    role: Role;
    messages: ChatMessage[];
    requests: CoHostRequest[];
    publishing: boolean;
  };
  leaveRoom: Record<string, never>;
  startLive: { liveId: string; liveCode: string };
  stopLive: Record<string, never>;
  publishVideo: { sdpAnswer: string };
  receiveVideo: { sdpAnswer: string };
  onIceCandidate: Record<string, never>;
  sendMessage: { message: ChatMessage };
  stopReceiving: Record<string, never>;
  setCoHosting: Record<string, never>;
  requestCoHost: Record<string, never>;
  cancelCoHostRequest: Record<string, never>;
  /** The new guest and the LiveId of their contribution. */
  acceptCoHost: { userId: string; liveId: string };
  rejectCoHost: Record<string, never>;
  endCoHost: Record<string, never>;
  setLayout: Record<string, never>;
  setFaceDetection: Record<string, never>;
}

/** Params of each request, by method name. */
export interface RequestParams {
  authenticate: { token: string };
  joinRoom: { roomId: string };
  leaveRoom: Record<string, never>;
  startLive: Record<string, never>;
  stopLive: Record<string, never>;
  publishVideo: { sdpOffer: string };
  /** `from`: a stage member's user id, to watch them directly (stage members only); else the program. */
  receiveVideo: { sdpOffer: string; from?: string };
  onIceCandidate: { endpoint: EndpointKind; candidate: IceCandidateInit };
  sendMessage: { text: string };
  /** Releases one of the caller's receive-only connections (`receive` or `receive:<userId>`). */
  stopReceiving: { endpoint: Exclude<EndpointKind, 'publish'> };
  setCoHosting: { enabled: boolean };
  requestCoHost: Record<string, never>;
  cancelCoHostRequest: Record<string, never>;
  acceptCoHost: { userId: string };
  rejectCoHost: { userId: string };
  /** The host removes guest `userId`; a guest leaves the stage (no `userId`, or its own). */
  endCoHost: { userId?: string };
  setLayout: { layout: Layout };
  setFaceDetection: { enabled: boolean };
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
  /**
   * The connection carrying the live's camera dropped; the live waits `graceMs` for the host to
   * come back (to everyone in the room).
   */
  hostAway: { roomId: string; liveId: string; graceMs: number };
  /** The host is back within the grace period; the live goes on under the same LiveId. */
  hostBack: { roomId: string; liveId: string };
  /** The room's title changed (to everyone in the room). */
  roomUpdated: { room: RoomSummary };
  /** The live's DASH/HLS became available, or stopped being so (to everyone in the room). */
  egressChanged: EgressState & { roomId: string };
  /**
   * The live's egress changed: DASH and each RTMP destination (to the host's windows only; also
   * sent to a host window that joins a live room).
   */
  egressStatus: EgressStatus & { roomId: string };
  /** The stage, its layout or the co-hosting switch changed (to everyone in the room). */
  stageChanged: StageState & { roomId: string };
  /** A viewer asks to join the stage (to the host). */
  coHostRequested: CoHostRequest;
  /** A request was withdrawn, or its viewer left the room (to the host). */
  coHostRequestCancelled: { userId: string };
  /**
   * A guest was accepted (to the guest and the host). The guest's copy carries its own `liveCode`
   * (the seed's LiveId + LiveCode pair for its contribution) and the host's live.
   */
  coHostAccepted: { userId: string; liveId: string; hostLiveId: string; liveCode?: string };
  /** The host said no, or closed co-hosting (to the viewer who asked). */
  coHostRejected: { userId: string; reason: 'rejected' | 'closed' };
  /** A guest left the stage (to the guest and the host). */
  coHostEnded: { userId: string; reason: CoHostEndReason };
}

/** Why a connection's login ended, in `sessionEnded`. */
export type SessionEndReason = 'loggedOut' | 'expired';

export type NotificationMethod = keyof NotificationParams;
