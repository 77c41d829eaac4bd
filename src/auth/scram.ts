// SCRAM-SHA-256 as PostgreSQL does it: stored verifiers plus server and client sessions (no channel binding).
export {
  SCRAM_SHA_256,
  DEFAULT_SCRAM_ITERATIONS,
  createScramVerifier,
  parseScramVerifier,
  isScramVerifier,
  type ScramSecret,
} from './scram-keys.js';
export { ScramServerSession, type ScramServerOptions, type ScramServerResult } from './scram-server.js';
export { ScramClientSession, type ScramClientOptions } from './scram-client.js';
export { saslprep } from './saslprep.js';
