// Public API of the sans-I/O authentication helpers (SCRAM-SHA-256 and MD5).
export { AuthError } from './errors.js';
export * from './scram.js';
export { md5Hash, md5Response, verifyMd5Response, isMd5Hash } from './md5.js';
