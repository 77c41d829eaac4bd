// The transport this process uses, chosen once: Bun's own sockets under Bun (unless POLYPROXY_TRANSPORT=node),
// node:net otherwise.
import { bunTransport } from './bun-transport.js';
import { nodeTransport } from './node-transport.js';
import { transportKind, type Transport } from './transport.js';

let chosen: Transport | undefined;

export function processTransport(): Transport {
  chosen ??= transportKind() === 'bun' ? bunTransport() : nodeTransport;
  return chosen;
}

/**
 * The transport for client connections: node:net whenever clients may ask for TLS, since the login upgrades an
 * accepted socket with node:tls, which wraps node:net sockets only.
 */
export function clientTransport(tls: boolean): Transport {
  return tls ? nodeTransport : processTransport();
}
