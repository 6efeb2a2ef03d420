// A custom worker is a program that runs as the user and receives registry credentials, so it
// runs only after the user has seen its whole command line and allowed it. The answer is kept per
// command line, for good: a changed argument is a new program to allow.
import * as vscode from 'vscode';
import { shellLine } from '../commandLine.js';
import type { SettingSource } from '../restrictedSetting.js';

const ALLOWED_KEY = 'lazyImages.allowedWorkers';

export class WorkerConsent {
  /** One question per command line, however many jobs start while it is open. */
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(private readonly state: vscode.Memento) {}

  private allowed(): string[] {
    return this.state.get<string[]>(ALLOWED_KEY, []);
  }

  /** Whether this command line may run; asks the first time (a modal), and remembers an Allow. */
  allows(words: readonly string[], source: SettingSource): Promise<boolean> {
    const key = JSON.stringify(words);
    if (this.allowed().includes(key)) return Promise.resolve(true);
    let answer = this.asking.get(key);
    if (!answer) {
      answer = this.ask(words, key, source).finally(() => this.asking.delete(key));
      this.asking.set(key, answer);
    }
    return answer;
  }

  private async ask(words: readonly string[], key: string, source: SettingSource): Promise<boolean> {
    const where = source === 'workspace' ? "this workspace's settings" : 'your user settings';
    const choice = await vscode.window.showWarningMessage(
      'Run a custom Lazy Images worker?',
      {
        modal: true,
        detail: `lazyImages.worker.command, in ${where}, runs this program for every job:\n\n${shellLine(words)}\n\n`
          + 'It runs as you, and receives the registry credentials of the jobs it runs. Allow it only if you trust it. Cancel runs nothing.',
      },
      'Allow',
    );
    if (choice !== 'Allow') return false;
    await this.state.update(ALLOWED_KEY, [...this.allowed(), key]);
    return true;
  }
}
