// What the client does when the language server's process dies (a crash, an out-of-memory
// kill): start it again and tell the user, with how many times it has happened, so that a
// server that keeps dying is not hidden behind silent restarts. Apart from the vscode API so
// that it can be tested in plain Node; extension.ts turns the decision into the client's
// CloseAction and shows the message as a warning.

// As vscode-languageclient's default: a server that dies this many times within the window is
// left stopped, since restarting it again would only loop.
export const MAX_RESTARTS = 4;
export const RESTART_WINDOW_MS = 3 * 60 * 1000;

export interface RestartDecision {
  restart: boolean;
  message: string;
}

export class ServerRestarts {
  // Every unexpected stop, for the count the user is told.
  total = 0;
  // The stops within the window, for the decision.
  private recent: number[] = [];

  constructor(private readonly max = MAX_RESTARTS, private readonly windowMs =
    RESTART_WINDOW_MS) {}

  // The server's connection closed without the client asking (`now` in milliseconds).
  closed(now: number): RestartDecision {
    this.total++;
    this.recent = [...this.recent.filter((t) => now - t < this.windowMs), now];
    const times = this.total === 1 ? 'once' : `${this.total} times`;
    if (this.recent.length > this.max) {
      return { restart: false, message: `kmodsim: the language server stopped unexpectedly ` +
        `${this.recent.length} times in ${this.windowMs / 60_000} minutes and is not restarted ` +
        'again; see the kmodsim output for why, and run "Developer: Reload Window" to start it' };
    }
    return { restart: true, message: `kmodsim: the language server stopped unexpectedly ` +
      `(${times} in this session) and has been restarted; see the kmodsim output for why` };
  }
}
