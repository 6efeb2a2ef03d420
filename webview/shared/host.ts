// The webview's side of protocol.ts: the data arrives by postMessage, is kept with setState (so a
// reload shows it at once) and is drawn by the report's `render`; the page says `ready` so the
// host sends it (again).
import type { FromWebview, SavedReport, ShowMessage } from '../../src/extension/webviews/protocol.js';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: FromWebview): void {
  api.postMessage(message);
}

/** Asks the host to run one of the report's actions (a button). */
export function action(name: string, ...args: string[]): void {
  post({ type: 'action', action: name, args });
}

export function copy(text: string): void {
  post({ type: 'copy', text });
}

/** Draws the saved report, then each one the host sends. */
export function start<D>(render: (data: D) => void): void {
  const saved = api.getState() as SavedReport<D> | undefined;
  if (saved?.data !== undefined) render(saved.data);
  window.addEventListener('message', (event: MessageEvent<ShowMessage<D>>) => {
    if (event.data?.type !== 'show') return;
    api.setState({ data: event.data.data } satisfies SavedReport<D>);
    render(event.data.data);
  });
  post({ type: 'ready' });
}
