/**
 * The lowdb JSON file that holds users, rooms, lives, login sessions and chat history.
 *
 * Writes go through lowdb's JSONFile adapter, which writes a temporary file and renames it over the
 * old one (steno), so a crash mid-write leaves the previous file intact. A file that is not valid
 * JSON, or not of Theia's shape, stops start-up with a StoreCorruptError naming the file: the store
 * never overwrites data it could not read.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { z } from 'zod';
import { StoreCorruptError } from '../errors.js';
import type { EndReason } from '../signalling/protocol.js';

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
const roomRecord = z.object({
  id: z.string(),
  ownerId: z.string(),
  title: z.string(),
  createdAt: z.number(),
});
const liveRecord = z.object({
  id: z.string(),
  roomId: z.string(),
  /** Secret that authorises pushing media into this live (the seed's LiveCode). */
  liveCode: z.string(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  endReason: z.string().nullable(),
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
const dataSchema = z.object({
  version: z.literal(1),
  users: z.array(userRecord),
  rooms: z.array(roomRecord),
  lives: z.array(liveRecord),
  sessions: z.array(sessionRecord),
  messages: z.array(messageRecord),
});

export type UserRecord = z.infer<typeof userRecord>;
export type RoomRecord = z.infer<typeof roomRecord>;
export type LiveRecord = z.infer<typeof liveRecord>;
export type SessionRecord = z.infer<typeof sessionRecord>;
export type MessageRecord = z.infer<typeof messageRecord>;
export type StoreData = z.infer<typeof dataSchema>;

/** Chat messages kept per room; older ones are dropped. */
export const MESSAGES_KEPT_PER_ROOM = 1000;

const empty = (): StoreData => ({ version: 1, users: [], rooms: [], lives: [], sessions: [], messages: [] });

export class Store {
  readonly file: string;
  readonly #db: Low<StoreData>;

  private constructor(file: string, db: Low<StoreData>) {
    this.file = file;
    this.#db = db;
  }

  /**
   * Opens (or creates) `<dataDir>/theia.json`.
   * @throws StoreCorruptError when the file exists but is not valid Theia data.
   */
  static async open(dataDir: string): Promise<Store> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, 'theia.json');
    const db = new Low<StoreData>(new JSONFile<StoreData>(file), empty());
    try {
      await db.read();
    } catch (err) {
      throw new StoreCorruptError(file, err);
    }
    const parsed = dataSchema.safeParse(db.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StoreCorruptError(file, new Error(`${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`));
    }
    db.data = parsed.data;
    const store = new Store(file, db);
    await store.#recover();
    return store;
  }

  /** Lives still open from a run that ended without closing them are marked ended. */
  async #recover(): Promise<void> {
    const now = Date.now();
    const d = this.#db.data;
    for (const live of d.lives) {
      if (live.endedAt === null) {
        live.endedAt = now;
        live.endReason = 'shutdown' satisfies EndReason;
      }
    }
    d.sessions = d.sessions.filter((s) => s.expiresAt > now);
    await this.#db.write();
  }

  // --- users ---------------------------------------------------------------------------------

  userById(id: string): UserRecord | undefined {
    return this.#db.data.users.find((u) => u.id === id);
  }

  userByName(name: string): UserRecord | undefined {
    const key = name.toLowerCase();
    return this.#db.data.users.find((u) => u.nameKey === key);
  }

  userByRtmpToken(token: string): UserRecord | undefined {
    return this.#db.data.users.find((u) => u.rtmpToken === token);
  }

  /** Adds a user and the room they own in one write. */
  async addUserWithRoom(user: UserRecord, room: RoomRecord): Promise<void> {
    this.#db.data.users.push(user);
    this.#db.data.rooms.push(room);
    await this.#db.write();
  }

  // --- rooms ---------------------------------------------------------------------------------

  rooms(): readonly RoomRecord[] {
    return this.#db.data.rooms;
  }

  roomById(id: string): RoomRecord | undefined {
    return this.#db.data.rooms.find((r) => r.id === id);
  }

  async updateRoom(id: string, changes: Partial<Pick<RoomRecord, 'title'>>): Promise<RoomRecord | undefined> {
    const room = this.roomById(id);
    if (!room) return undefined;
    Object.assign(room, changes);
    await this.#db.write();
    return room;
  }

  // --- lives ---------------------------------------------------------------------------------

  liveById(id: string): LiveRecord | undefined {
    return this.#db.data.lives.find((l) => l.id === id);
  }

  async addLive(live: LiveRecord): Promise<void> {
    this.#db.data.lives.push(live);
    await this.#db.write();
  }

  async endLive(id: string, reason: EndReason): Promise<void> {
    const live = this.liveById(id);
    if (!live || live.endedAt !== null) return;
    live.endedAt = Date.now();
    live.endReason = reason;
    await this.#db.write();
  }

  // --- sessions ------------------------------------------------------------------------------

  sessionByTokenHash(tokenHash: string): SessionRecord | undefined {
    return this.#db.data.sessions.find((s) => s.tokenHash === tokenHash);
  }

  async addSession(session: SessionRecord): Promise<void> {
    const now = Date.now();
    this.#db.data.sessions = this.#db.data.sessions.filter((s) => s.expiresAt > now);
    this.#db.data.sessions.push(session);
    await this.#db.write();
  }

  async removeSession(tokenHash: string): Promise<boolean> {
    const before = this.#db.data.sessions.length;
    this.#db.data.sessions = this.#db.data.sessions.filter((s) => s.tokenHash !== tokenHash);
    if (this.#db.data.sessions.length === before) return false;
    await this.#db.write();
    return true;
  }

  // --- chat ----------------------------------------------------------------------------------

  /** The last `limit` messages of a room, oldest first. */
  messages(roomId: string, limit: number): MessageRecord[] {
    const all = this.#db.data.messages.filter((m) => m.roomId === roomId);
    return all.slice(Math.max(0, all.length - limit));
  }

  /** Appends a message, keeping at most MESSAGES_KEPT_PER_ROOM per room. */
  async addMessage(message: MessageRecord): Promise<void> {
    const d = this.#db.data;
    d.messages.push(message);
    const inRoom = d.messages.filter((m) => m.roomId === message.roomId);
    if (inRoom.length > MESSAGES_KEPT_PER_ROOM) {
      const drop = new Set(inRoom.slice(0, inRoom.length - MESSAGES_KEPT_PER_ROOM));
      d.messages = d.messages.filter((m) => !drop.has(m));
    }
    await this.#db.write();
  }
}
