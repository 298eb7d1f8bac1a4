/**
 * The protocol between Theia and its clients, in one place the server and the web client both
 * import: wire types (messages.ts), error and close codes (errors.ts), limits (limits.ts).
 * doc/protocol.md is its prose version.
 */
export * from './errors.js';
export * from './limits.js';
export * from './messages.js';
