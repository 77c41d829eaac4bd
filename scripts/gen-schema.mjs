// Writes config/schema.json from the compiled config schema; run after tsc (npm run build does).
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';
import { configJsonSchema } from '../dist/config/json-schema.js';

const target = new URL('../config/schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
