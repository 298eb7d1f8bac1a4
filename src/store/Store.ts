/**
 * Theia's embedded store: users, rooms, lives and login sessions in `<dataDir>/theia.json`, and
 * each room's chat in `<dataDir>/chat/<roomId>.json`. Everything is held in memory; reads are
 * synchronous map look-ups, and each change is written to disk before its promise resolves.
 *
 * Files are compact JSON written through lowdb's TextFile adapter, i.e. steno: a temporary file
 * renamed over the old one, so a crash mid-write leaves the previous file whole. Writes to one file
 * are coalesced (WriteCoalescer): at most one in flight, changes made meanwhile go out together in
 * the next. Chat lives in one small file per room, keeping only the newest MESSAGES_KEPT_PER_ROOM
 * messages, so a chat message rewrites ~30 kB instead of the whole store: doc/storage.md has the
 * measurements behind this layout.
 *
 * A file that is not valid JSON, or not of Theia's shape, stops start-up with a StoreCorruptError
 * naming the file: the store never overwrites data it could not read.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TextFile } from 'lowdb/node';
import { z } from 'zod';
import { InvalidStateError, StoreCorruptError } from '../errors.js';
import { Limits, type CoHostEndReason, type EndReason } from '../protocol/index.js';
import { JsonChunks } from './JsonChunks.js';
import { WriteCoalescer } from './WriteCoalescer.js';

const userRecord = z.object({
  id: z.string(),
  name: z.string(),
  /** lower-case name, for case-insensitive uniqueness */
  nameKey: z.string(),
  passwordHash: z.string(),
  /** Secret OBS pushes to: rtmp://host/live/<rtmpToken> */
  rtmpToken: z.string(),
  createdAt: z.number(),
});
/** An RTMP destination the room's host set (src/http/destinationsRouter.ts); `key` is secret. */
const rtmpDestinationRecord = z.object({
  id: z.string(),
  /** `rtmp://host[:port]/app` or `rtmps://…`, without the stream key */
  url: z.string(),
  /** the stream key: never sent to anyone, not even the owner (only its last characters) */
  key: z.string(),
});
const roomRecord = z.object({
  id: z.string(),
  ownerId: z.string(),
  title: z.string(),
  createdAt: z.number(),
  /** Stage settings the host chose; absent in rooms stored before co-hosting (defaults apply). */
  coHosting: z.boolean().optional(),
  layout: z.enum(['grid', 'pip']).optional(),
  faceDetection: z.boolean().optional(),
  /** RTMP pushes of the room's lives; absent in rooms stored before egress (none). */
  rtmpDestinations: z.array(rtmpDestinationRecord).optional(),
});
const liveRecord = z.object({
  id: z.string(),
  roomId: z.string(),
  /** Secret that authorises pushing media into this live (the seed's LiveCode). */
  liveCode: z.string(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  endReason: z.string().nullable(),
  /** Whose contribution this is: absent for a room's own live (its owner's), set for a guest's. */
  userId: z.string().optional(),
  /** A guest's live: the host's live it joined (the seed's co-host LiveId pair). */
  hostLiveId: z.string().optional(),
});
const sessionRecord = z.object({
  /** sha256 of the bearer token; the token itself is never stored */
  tokenHash: z.string(),
  userId: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
const messageRecord = z.object({
  id: z.string(),
  roomId: z.string(),
  userId: z.string(),
  userName: z.string(),
  text: z.string(),
  sentAt: z.number(),
});
const tables = {
  users: z.array(userRecord),
  rooms: z.array(roomRecord),
  lives: z.array(liveRecord),
  sessions: z.array(sessionRecord),
};
/** theia.json: version 2 keeps chat out of the main file. */
const mainSchema = z.object({ version: z.literal(2), ...tables });
/** theia.json before chat moved to chat/: migrated on open. */
const legacySchema = z.object({ version: z.literal(1), ...tables, messages: z.array(messageRecord) });
/** chat/<roomId>.json */
const chatSchema = z.object({ version: z.literal(1), roomId: z.string(), messages: z.array(messageRecord) });

export type UserRecord = z.infer<typeof userRecord>;
export type RoomRecord = z.infer<typeof roomRecord>;
export type RtmpDestinationRecord = z.infer<typeof rtmpDestinationRecord>;
export type LiveRecord = z.infer<typeof liveRecord>;
export type SessionRecord = z.infer<typeof sessionRecord>;
export type MessageRecord = z.infer<typeof messageRecord>;

/**
 * Chat messages kept per room, newest first; older ones are dropped. As many as `joinRoom` replays
 * (Limits.chatReplay), which bounds each room's chat file (~30 kB) and so the cost of a chat write.
 */
export const MESSAGES_KEPT_PER_ROOM: number = Limits.chatReplay;

/** Counts of completed file writes, for diagnostics and tests. */
export interface StoreStats {
  /** writes of theia.json */
  mainWrites: number;
  /** writes of chat/<roomId>.json files, all rooms together */
  chatWrites: number;
}

/** Reads and parses one JSON file; null when it does not exist. @throws StoreCorruptError */
async function readJson<S extends z.ZodType>(
  file: TextFile,
  name: string,
  schemas: readonly S[],
): Promise<z.infer<S> | null> {
  let text: string | null;
  let json: unknown;
  try {
    text = await file.read();
    if (text === null) return null;
    json = JSON.parse(text);
  } catch (err) {
    throw new StoreCorruptError(name, err);
  }
  let issue: z.core.$ZodIssue | undefined;
  for (const schema of schemas) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    issue ??= parsed.error.issues[0];
  }
  throw new StoreCorruptError(name, new Error(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`));
}

const chatFileName = (roomId: string) => `${encodeURIComponent(roomId)}.json`;

/** One room's retained chat and its file. */
class RoomChat {
  readonly roomId: string;
  /** oldest first, at most MESSAGES_KEPT_PER_ROOM */
  messages: MessageRecord[];
  readonly writer: WriteCoalescer;

  constructor(roomId: string, messages: MessageRecord[], file: string) {
    this.roomId = roomId;
    this.messages = messages;
    const adapter = new TextFile(file);
    this.writer = new WriteCoalescer(() =>
      adapter.write(JSON.stringify({ version: 1, roomId: this.roomId, messages: this.messages })),
    );
  }
}

export class Store {
  /** Path of theia.json. */
  readonly file: string;
  /** Folder of the per-room chat files. */
  readonly chatDir: string;
  readonly #users: JsonChunks<UserRecord>;
  readonly #rooms: JsonChunks<RoomRecord>;
  readonly #lives: JsonChunks<LiveRecord>;
  readonly #sessions: JsonChunks<SessionRecord>;
  readonly #userById = new Map<string, UserRecord>();
  readonly #userByNameKey = new Map<string, UserRecord>();
  readonly #userByRtmpToken = new Map<string, UserRecord>();
  /** id → index in #rooms / #lives, to re-encode only the chunk a change touches */
  readonly #roomIndex = new Map<string, number>();
  readonly #liveIndex = new Map<string, number>();
  #sessionByHash = new Map<string, SessionRecord>();
  readonly #chat = new Map<string, RoomChat>();
  readonly #main: WriteCoalescer;
  #closed = false;

  private constructor(file: string, chatDir: string, data: z.infer<typeof mainSchema>) {
    this.file = file;
    this.chatDir = chatDir;
    this.#users = new JsonChunks(data.users);
    this.#rooms = new JsonChunks(data.rooms);
    this.#lives = new JsonChunks(data.lives);
    this.#sessions = new JsonChunks(data.sessions);
    for (const u of data.users) this.#indexUser(u);
    data.rooms.forEach((r, i) => this.#roomIndex.set(r.id, i));
    data.lives.forEach((l, i) => this.#liveIndex.set(l.id, i));
    for (const s of data.sessions) this.#sessionByHash.set(s.tokenHash, s);
    const adapter = new TextFile(file);
    this.#main = new WriteCoalescer(() => adapter.write(this.#encodeMain()));
  }

  /**
   * Opens (or creates) `<dataDir>/theia.json` and `<dataDir>/chat/`, moving chat out of a version-1
   * theia.json (which held it all) into per-room files. Lives left open by a crash are marked ended
   * ('shutdown') and expired sessions dropped.
   * @throws StoreCorruptError naming the file when theia.json or a chat file exists but is not valid
   *   Theia data; nothing is written then.
   */
  static async open(dataDir: string): Promise<Store> {
    const file = path.join(dataDir, 'theia.json');
    const chatDir = path.join(dataDir, 'chat');
    await mkdir(chatDir, { recursive: true });
    const read = await readJson(new TextFile(file), file, [mainSchema, legacySchema]);
    const chat = new Map<string, MessageRecord[]>();
    for (const name of await readdir(chatDir)) {
      if (name.startsWith('.') || !name.endsWith('.json')) continue; // steno's temporary files
      const chatFile = path.join(chatDir, name);
      if (!(await stat(chatFile)).isFile()) continue;
      const data = await readJson(new TextFile(chatFile), chatFile, [chatSchema]);
      if (!data) continue;
      if (chatFileName(data.roomId) !== name)
        throw new StoreCorruptError(chatFile, new Error(`holds the chat of room "${data.roomId}"`));
      chat.set(data.roomId, data.messages);
    }
    const main = read ?? { version: 2 as const, users: [], rooms: [], lives: [], sessions: [] };
    const store = new Store(file, chatDir, { ...main, version: 2 });
    const legacy = read?.version === 1 ? read.messages : [];
    for (const m of legacy) {
      const list = chat.get(m.roomId) ?? [];
      chat.set(m.roomId, list);
      // a crash mid-migration leaves chat files written from the same messages: skip those
      if (!list.some((x) => x.id === m.id)) list.push(m);
    }
    for (const [roomId, messages] of chat) {
      if (legacy.length > 0) messages.sort((a, b) => a.sentAt - b.sentAt);
      store.#chat.set(
        roomId,
        new RoomChat(roomId, messages.slice(-MESSAGES_KEPT_PER_ROOM), store.#chatFile(roomId)),
      );
    }
    if (legacy.length > 0) {
      // chat files first: until theia.json is version 2, a crash here just migrates again
      const rooms = new Set(legacy.map((m) => m.roomId));
      await Promise.all(
        [...store.#chat.values()].filter((c) => rooms.has(c.roomId)).map((c) => c.writer.request()),
      );
    }
    const changed = store.#recover();
    if (!read || read.version === 1 || changed) await store.#main.request();
    return store;
  }

  /** Lives still open from a run that ended without closing them are marked ended; expired sessions go. */
  #recover(): boolean {
    const now = Date.now();
    let changed = false;
    this.#lives.items.forEach((live, i) => {
      if (live.endedAt !== null) return;
      live.endedAt = now;
      live.endReason = 'shutdown' satisfies EndReason;
      this.#lives.changed(i);
      changed = true;
    });
    return this.#dropExpiredSessions(now) || changed;
  }

  /** Completed file writes since open. */
  get stats(): StoreStats {
    let chatWrites = 0;
    for (const c of this.#chat.values()) chatWrites += c.writer.writes;
    return { mainWrites: this.#main.writes, chatWrites };
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for writes in flight or waiting, then refuses further changes (reads still work).
   * Idempotent. Never rejects: a failed write has already rejected its callers.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#main.idle(), ...[...this.#chat.values()].map((c) => c.writer.idle())]);
  }

  // --- users ---------------------------------------------------------------------------------

  userById(id: string): UserRecord | undefined {
    return this.#userById.get(id);
  }

  /** Case-insensitive. */
  userByName(name: string): UserRecord | undefined {
    return this.#userByNameKey.get(name.toLowerCase());
  }

  userByRtmpToken(token: string): UserRecord | undefined {
    return this.#userByRtmpToken.get(token);
  }

  /**
   * Replaces user `userId`'s stream key (RtmpToken) with `rtmpToken`: the old one stops working at
   * once (its running stream is cut by the ingest, src/http/rtpRouter.ts).
   * @returns the user, undefined for an unknown id. @throws InvalidStateError after close().
   */
  async setRtmpToken(userId: string, rtmpToken: string): Promise<UserRecord | undefined> {
    this.#requireOpen();
    const i = this.#users.items.findIndex((u) => u.id === userId);
    const user = this.#users.items[i];
    if (!user) return undefined;
    this.#userByRtmpToken.delete(user.rtmpToken);
    user.rtmpToken = rtmpToken;
    this.#userByRtmpToken.set(rtmpToken, user);
    this.#users.changed(i);
    await this.#main.request();
    return user;
  }

  /**
   * Adds a user and the room they own in one write.
   * @throws InvalidStateError after close(); the write's error (e.g. ENOSPC) if it failed.
   */
  async addUserWithRoom(user: UserRecord, room: RoomRecord): Promise<void> {
    this.#requireOpen();
    this.#users.push(user);
    this.#indexUser(user);
    this.#rooms.push(room);
    this.#roomIndex.set(room.id, this.#rooms.items.length - 1);
    await this.#main.request();
  }

  // --- rooms ---------------------------------------------------------------------------------

  /** Every room, in creation order. Do not mutate. */
  rooms(): readonly RoomRecord[] {
    return this.#rooms.items;
  }

  roomById(id: string): RoomRecord | undefined {
    const i = this.#roomIndex.get(id);
    return i === undefined ? undefined : this.#rooms.items[i];
  }

  /**
   * Changes a room's title or stage settings; undefined when there is no such room.
   * @throws InvalidStateError after close(); the write's error if it failed.
   */
  async updateRoom(
    id: string,
    changes: Partial<
      Pick<RoomRecord, 'title' | 'coHosting' | 'layout' | 'faceDetection' | 'rtmpDestinations'>
    >,
  ): Promise<RoomRecord | undefined> {
    this.#requireOpen();
    const i = this.#roomIndex.get(id);
    const room = i === undefined ? undefined : this.#rooms.items[i];
    if (i === undefined || !room) return undefined;
    Object.assign(room, changes);
    this.#rooms.changed(i);
    await this.#main.request();
    return room;
  }

  // --- lives ---------------------------------------------------------------------------------

  liveById(id: string): LiveRecord | undefined {
    const i = this.#liveIndex.get(id);
    return i === undefined ? undefined : this.#lives.items[i];
  }

  /** @throws InvalidStateError after close(); the write's error if it failed. */
  async addLive(live: LiveRecord): Promise<void> {
    this.#requireOpen();
    this.#lives.push(live);
    this.#liveIndex.set(live.id, this.#lives.items.length - 1);
    await this.#main.request();
  }

  /**
   * Marks a live ended now, for `reason`; does nothing if it is unknown or already ended.
   * @throws InvalidStateError after close(); the write's error if it failed.
   */
  async endLive(id: string, reason: EndReason | CoHostEndReason): Promise<void> {
    this.#requireOpen();
    const i = this.#liveIndex.get(id);
    const live = i === undefined ? undefined : this.#lives.items[i];
    if (i === undefined || !live || live.endedAt !== null) return;
    live.endedAt = Date.now();
    live.endReason = reason;
    this.#lives.changed(i);
    await this.#main.request();
  }

  // --- sessions ------------------------------------------------------------------------------

  sessionByTokenHash(tokenHash: string): SessionRecord | undefined {
    return this.#sessionByHash.get(tokenHash);
  }

  /**
   * Adds a login session, dropping expired ones.
   * @throws InvalidStateError after close(); the write's error if it failed.
   */
  async addSession(session: SessionRecord): Promise<void> {
    this.#requireOpen();
    this.#dropExpiredSessions(Date.now());
    this.#sessions.push(session);
    this.#sessionByHash.set(session.tokenHash, session);
    await this.#main.request();
  }

  /**
   * Revokes a session; false (and no write) when there was none.
   * @throws InvalidStateError after close(); the write's error if it failed.
   */
  async removeSession(tokenHash: string): Promise<boolean> {
    this.#requireOpen();
    if (!this.#sessionByHash.has(tokenHash)) return false;
    this.#setSessions(this.#sessions.items.filter((s) => s.tokenHash !== tokenHash));
    await this.#main.request();
    return true;
  }

  // --- chat ----------------------------------------------------------------------------------

  /** The last `limit` (≤ MESSAGES_KEPT_PER_ROOM) messages of a room, oldest first; a new array. */
  messages(roomId: string, limit: number): MessageRecord[] {
    const all = this.#chat.get(roomId)?.messages ?? [];
    return all.slice(Math.max(0, all.length - limit));
  }

  /**
   * Appends a message to its room's chat, dropping the oldest beyond MESSAGES_KEPT_PER_ROOM, and
   * resolves once it is on disk (in the room's chat file, which other rooms' messages never delay).
   * @throws InvalidStateError after close(); the write's error if it failed.
   */
  async addMessage(message: MessageRecord): Promise<void> {
    this.#requireOpen();
    let chat = this.#chat.get(message.roomId);
    if (!chat) {
      chat = new RoomChat(message.roomId, [], this.#chatFile(message.roomId));
      this.#chat.set(message.roomId, chat);
    }
    chat.messages.push(message);
    if (chat.messages.length > MESSAGES_KEPT_PER_ROOM)
      chat.messages.splice(0, chat.messages.length - MESSAGES_KEPT_PER_ROOM);
    await chat.writer.request();
  }

  // --- internals -----------------------------------------------------------------------------

  #requireOpen(): void {
    if (this.#closed) throw new InvalidStateError('The store is closed; Theia is shutting down.');
  }

  #indexUser(u: UserRecord): void {
    this.#userById.set(u.id, u);
    this.#userByNameKey.set(u.nameKey, u);
    this.#userByRtmpToken.set(u.rtmpToken, u);
  }

  #dropExpiredSessions(now: number): boolean {
    const kept = this.#sessions.items.filter((s) => s.expiresAt > now);
    if (kept.length === this.#sessions.items.length) return false;
    this.#setSessions(kept);
    return true;
  }

  #setSessions(sessions: SessionRecord[]): void {
    this.#sessions.replace(sessions);
    this.#sessionByHash = new Map(sessions.map((s) => [s.tokenHash, s]));
  }

  #chatFile(roomId: string): string {
    return path.join(this.chatDir, chatFileName(roomId));
  }

  /** theia.json as compact JSON; only the chunks changed since the last write are re-encoded. */
  #encodeMain(): string {
    return (
      `{"version":2,"users":${this.#users.toJsonText()},"rooms":${this.#rooms.toJsonText()},` +
      `"lives":${this.#lives.toJsonText()},"sessions":${this.#sessions.toJsonText()}}`
    );
  }
}
