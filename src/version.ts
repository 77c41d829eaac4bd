// polyproxy's own version, read from package.json once, for plugins' version ranges and the admin console.
import fs from 'node:fs';

const packageJson = new URL('../package.json', import.meta.url);

export const proxyVersion: string = (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string })
  .version;
