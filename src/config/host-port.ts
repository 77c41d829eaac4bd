// host:port addresses as written in config (IPv4, [IPv6] or hostname, port 1..65535).
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

const hostnameLabel = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function isHostname(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  if (labels.every((label) => /^\d+$/.test(label))) return false;
  return labels.every((label) => hostnameLabel.test(label));
}

/** Splits an address for net.connect/listen; an IPv6 host comes back without its brackets. */
export function parseHostPort(text: string): HostPort {
  const fail = (reason?: string): never => {
    throw new Error(`expected host:port, got ${JSON.stringify(text)}${reason ? ` (${reason})` : ''}`);
  };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return fail();
  const rawHost = text.slice(0, colon);
  const rawPort = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(rawPort)) return fail('port must be a number 1..65535');
  const port = Number(rawPort);
  if (port < 1 || port > 65535) return fail('port must be 1..65535');
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    const host = rawHost.slice(1, -1);
    return isIPv6(host) ? { host, port } : fail('not an IPv6 address inside the brackets');
  }
  if (isIPv6(rawHost)) return fail('write an IPv6 host in brackets, e.g. [::1]:5432');
  if (isIPv4(rawHost) || isHostname(rawHost)) return { host: rawHost, port };
  return fail(rawHost === '' ? 'host is missing' : 'not an IPv4 address, [IPv6] address or hostname');
}
