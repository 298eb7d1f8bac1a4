/**
 * The REST API of src/http/createHttpApp.ts. Every function resolves with the response body, or
 * rejects with an ApiError carrying the server's `{error: {code, message}}` (or a network error).
 */
import { ApiError, ClientErrorCode } from '../errors.js';
import type { PublicUser, RoomSummary } from '../protocol.js';

/** `POST /api/users` and `POST /api/login`. `expiresAt` is ms since the Unix epoch. */
export interface AuthResult {
  user: PublicUser;
  token: string;
  expiresAt: number;
}

/** `GET /api/me`: the logged-in user, the room they own, the secret OBS pushes to. */
export interface Me {
  user: PublicUser;
  roomId: string | null;
  rtmpToken: string;
}

/** `GET /api/rooms/:id`. */
export interface RoomInfo {
  room: RoomSummary;
  webrtc: boolean;
  mpdUrl: string | null;
  iceServers: RTCIceServer[];
}

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  token?: string | undefined;
  signal?: AbortSignal | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(
      0,
      ClientErrorCode.Network,
      'Cannot reach the server. Check your connection and try again.',
      {
        cause: err,
      },
    );
  }
  if (res.status === 204) return undefined as T;
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw new ApiError(
      res.status,
      ClientErrorCode.BadResponse,
      `The server sent an unreadable answer (${res.status}).`,
      {
        cause: err,
      },
    );
  }
  if (!res.ok) {
    const error = isObject(body) && isObject(body.error) ? body.error : undefined;
    const message =
      typeof error?.message === 'string' ? error.message : `The server refused the request (${res.status}).`;
    const code = typeof error?.code === 'number' ? error.code : ClientErrorCode.BadResponse;
    throw new ApiError(res.status, code, message);
  }
  if (!isObject(body)) {
    throw new ApiError(res.status, ClientErrorCode.BadResponse, 'The server sent an unexpected answer.');
  }
  return body as T;
}

/** Creates an account (and its room) and logs in. */
export function signUp(name: string, password: string): Promise<AuthResult> {
  return call('/api/users', { method: 'POST', body: { name, password } });
}

export function logIn(name: string, password: string): Promise<AuthResult> {
  return call('/api/login', { method: 'POST', body: { name, password } });
}

/** Revokes `token` on the server. */
export function logOut(token: string): Promise<void> {
  return call('/api/logout', { method: 'POST', token });
}

export function fetchMe(token: string): Promise<Me> {
  return call('/api/me', { token });
}

export async function fetchRooms(signal?: AbortSignal): Promise<RoomSummary[]> {
  const { rooms } = await call<{ rooms: RoomSummary[] }>('/api/rooms', { signal });
  return rooms;
}

/** `GET /api/config`: what browsers need for media. */
export interface MediaConfig {
  iceServers: RTCIceServer[];
  /** The video codec to publish with when the browser can (`any`: the browser's own choice). */
  publishVideoCodec: 'h264' | 'vp8' | 'any';
}

let mediaConfig: Promise<MediaConfig> | undefined;

/** `GET /api/config`, fetched once per page (a failed fetch is tried again next time). */
export function fetchMediaConfig(): Promise<MediaConfig> {
  mediaConfig ??= call<MediaConfig>('/api/config').catch((err: unknown) => {
    mediaConfig = undefined;
    throw err;
  });
  return mediaConfig;
}

export function fetchRoom(roomId: string, signal?: AbortSignal): Promise<RoomInfo> {
  return call(`/api/rooms/${encodeURIComponent(roomId)}`, { signal });
}

/** An RTMP destination as its owner sees it (`/api/rooms/:id/destinations`): never the key. */
export interface DestinationView {
  id: string;
  url: string;
  /** `…` and the stream key's last 4 characters. */
  keyHint: string;
}

/** An edited destination: `key` may be left out for a stored one (`id`) to keep its key. */
export interface DestinationInput {
  id?: string;
  url: string;
  key?: string;
}

export function fetchDestinations(
  roomId: string,
  token: string,
): Promise<{ destinations: DestinationView[]; max: number }> {
  return call(`/api/rooms/${encodeURIComponent(roomId)}/destinations`, { token });
}

/** Replaces the room's destinations (from its next live on). */
export function saveDestinations(
  roomId: string,
  token: string,
  destinations: DestinationInput[],
): Promise<{ destinations: DestinationView[]; max: number }> {
  return call(`/api/rooms/${encodeURIComponent(roomId)}/destinations`, {
    method: 'PUT',
    token,
    body: { destinations },
  });
}
