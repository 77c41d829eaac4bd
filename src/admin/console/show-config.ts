// SHOW CONFIG: the effective configuration, one key per row (durations in milliseconds), secrets redacted.
import type { ConsoleCommand } from './console-command.js';
import { text } from './console-result.js';
import { configRows } from './config-rows.js';

export const showConfig: ConsoleCommand = {
  name: 'SHOW CONFIG',
  description: 'the effective configuration: key, value, default, and whether RELOAD can change it',
  run(source) {
    const rows = configRows(source.config()).map((r) => [r.key, r.value, r.default, r.changeable]);
    return {
      columns: [text('key'), text('value'), text('default'), text('changeable')],
      rows,
      tag: 'SHOW',
    };
  },
};
