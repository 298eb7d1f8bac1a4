/** The protocol shared with the server (the one source of truth is src/protocol/). */
export * from '../../src/protocol/index.js';
