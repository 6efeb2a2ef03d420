// The messages between a report panel and its webview, one module for both sides (the webview
// bundles import it for its types only). The webview shows untrusted text, so the host treats
// what comes back as untrusted too: `parseFromWebview` admits only these shapes.

/** host -> webview: the report to show, whole; the webview keeps it with setState for a reload. */
export interface ShowMessage<D> {
  type: 'show';
  data: D;
}

/** What a webview saves with setState, and VS Code hands back after a reload: the data it last showed. */
export interface SavedReport<D> {
  data: D;
}

/** webview -> host: the page has loaded and wants its data (again, after a reload). */
export interface ReadyMessage {
  type: 'ready';
}

/** webview -> host: put `text` on the clipboard (a digest, a reference). */
export interface CopyMessage {
  type: 'copy';
  text: string;
}

/** webview -> host: run one of the panel's own actions, named by the report; `args` are strings it sent. */
export interface ActionMessage {
  type: 'action';
  action: string;
  args: string[];
}

export type FromWebview = ReadyMessage | CopyMessage | ActionMessage;

/** The longest text a webview may hand back (a reference or a digest is far shorter). */
const MAX_TEXT = 4096;
const MAX_ARGS = 8;

/** The message, if it is one the host understands; anything else is dropped by the caller. */
export function parseFromWebview(message: unknown): FromWebview | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'copy':
      return isText(m.text) ? { type: 'copy', text: m.text } : undefined;
    case 'action': {
      const args = m.args ?? [];
      if (!isText(m.action) || !Array.isArray(args) || args.length > MAX_ARGS || !args.every(isText)) return undefined;
      return { type: 'action', action: m.action, args: args as string[] };
    }
    default:
      return undefined;
  }
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}
