// The server's log, through the connection (window/logMessage), so it lands in the client's
// output channel. `kmodsim.trace.server` set to "verbose" also turns on the debug lines.

import type { Connection } from 'vscode-languageserver/node';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Log {
  level: LogLevel = 'info';

  constructor(private readonly connection: Connection) {}

  error(text: string) {
    this.connection.console.error(text);
  }

  warn(text: string) {
    if (RANK[this.level] >= RANK.warn) this.connection.console.warn(text);
  }

  info(text: string) {
    if (RANK[this.level] >= RANK.info) this.connection.console.info(text);
  }

  debug(text: string) {
    if (RANK[this.level] >= RANK.debug) this.connection.console.log(text);
  }
}
