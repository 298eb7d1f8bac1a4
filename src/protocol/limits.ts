/**
 * Limits of the signalling protocol a client should know about (doc/protocol.md, "Limits per
 * connection"). Imported by the browser build too: no Node imports.
 */

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
