// A daemon's log in an output channel, followed as it grows: the managed daemon's log file, or
// the systemd unit's journal. Following stops when the daemon's place changes, and on dispose.
import * as vscode from 'vscode';
import type { SnapshotterKind } from '../../core/snapshotter/index.js';
import type { Snapshotters } from './Snapshotters.js';

interface Follower {
  channel: vscode.OutputChannel;
  /** The file or unit followed; empty once following failed. */
  source: string;
  controller: AbortController;
}

export class LogFollowers implements vscode.Disposable {
  private readonly followers = new Map<SnapshotterKind, Follower>();

  constructor(private readonly snapshotters: Snapshotters) {}

  async show(kind: SnapshotterKind): Promise<void> {
    const core = await this.snapshotters.load();
    const place = await this.snapshotters.place(kind);
    const source = place.logFile ?? `journal of ${place.unit}`;
    let follower = this.followers.get(kind);
    if (follower?.source !== source) {
      follower?.controller.abort();
      const channel = follower?.channel ?? vscode.window.createOutputChannel(`Lazy Images: ${kind} snapshotter`);
      const controller = new AbortController();
      const current: Follower = { channel, source, controller };
      follower = current;
      this.followers.set(kind, current);
      channel.appendLine(`Following ${source}`);
      const lines = place.logFile ? core.followFile(place.logFile, { lines: 200, signal: controller.signal }) : core.followJournal(place.unit, { lines: 200, signal: controller.signal });
      void (async () => {
        try {
          for await (const line of lines) channel.appendLine(line);
        } catch (e) {
          channel.appendLine(`Stopped following ${source}: ${(e as Error).message}`);
          current.source = ''; // the next Show Logs tries again
        }
      })();
    }
    follower.channel.show(true);
  }

  dispose(): void {
    for (const f of this.followers.values()) {
      f.controller.abort();
      f.channel.dispose();
    }
  }
}
