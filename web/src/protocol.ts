/** The signalling protocol shared with the server (the one source of truth is src/signalling/protocol.ts). */
export * from '../../src/signalling/protocol.js';
