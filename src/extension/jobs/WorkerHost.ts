// The worker process seen from the extension: started on first use (ours, or the command the
// user configured and allowed), its stderr in the log, its capabilities as context keys, and one
// clear notification if it dies. The next job starts a fresh one.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { LazyImageError } from '../../core/errors.js';
import { count } from '../../core/format.js';
import type { RequestOptions, WorkerClient, WorkerCommand } from '../../worker/client.js';
import type { Operation, WorkerCapabilities } from '../../worker/protocol.js';
import { restrictedSetting, type SettingSource } from '../restrictedSetting.js';
import { shellLine } from '../commandLine.js';
import type { WorkerConsent } from './WorkerConsent.js';

const ALL_OPERATIONS: readonly Operation[] = ['batch', 'convert', 'copy', 'index', 'inspect', 'optimize', 'verify'];
const SECTION = 'lazyImages.worker';

export class WorkerHost implements vscode.Disposable {
  private client: WorkerClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** How many times a worker died on us; jobs compare it to know why they failed. */
  crashes = 0;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, private readonly consent: WorkerConsent) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SECTION) && void this.settingsChanged()),
      // Trust makes the workspace's own worker settings count.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.settingsChanged()),
    );
  }

  /** The worker to run, and for a custom one, which settings asked for it. */
  private configured(): { worker: WorkerCommand; custom?: SettingSource } {
    const command = restrictedSetting(SECTION, 'command', '');
    const program = typeof command.value === 'string' ? command.value.trim() : '';
    if (program) {
      const args = restrictedSetting<unknown>(SECTION, 'args', []).value;
      return { worker: { command: program, args: Array.isArray(args) ? args.map(String) : [] }, custom: command.source };
    }
    // Our own worker runs on the editor's runtime; Electron acts as plain Node with this variable.
    return { worker: { command: process.execPath, args: [join(this.extensionUri.fsPath, 'dist', 'worker.js')], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } } };
  }

  /** The worker for the next job; a custom one only once the user has allowed its command line. */
  private async worker(): Promise<WorkerClient> {
    if (this.client) return this.client;
    const { worker, custom } = this.configured();
    const line = shellLine([worker.command, ...worker.args]);
    if (custom && !(await this.consent.allows([worker.command, ...worker.args], custom))) {
      this.log.warn(`Worker not allowed, nothing run: ${line}`);
      throw new LazyImageError('CANCELLED', `The worker ${line} was not allowed`);
    }
    if (this.client) return this.client;
    this.log.info(`Worker: ${line}`);
    // Loaded on the first job, with its JSON-RPC library: activation does not pay for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WorkerClient } = require('../../worker/client.js') as typeof import('../../worker/client.js');
    this.client = new WorkerClient({
      worker,
      clientName: 'lazy-images-vscode',
      maxConcurrentJobs: vscode.workspace.getConfiguration(SECTION).get<number>('maxConcurrentJobs', 2),
      onLog: (text) => this.log.info(`[worker] ${text}`),
      onExit: (reason, expected) => {
        if (expected) return this.log.info(`Worker stopped: ${reason}`);
        this.crashes++;
        this.log.error(`Worker stopped unexpectedly: ${reason}`);
        void vscode.window.showErrorMessage(`The Lazy Images worker stopped (${reason}). Its running jobs failed; the next job starts a new worker.`);
      },
    });
    return this.client;
  }

  /** Starts the worker if needed; records what it can do for `when` clauses. */
  async capabilities(): Promise<WorkerCapabilities> {
    const { capabilities, serverInfo } = await (await this.worker()).start();
    this.log.info(`Worker ${serverInfo.name} ${serverInfo.version}: ${capabilities.operations.join(', ')}`);
    // Menus hide what the worker lacks; before it has started, everything shows.
    for (const operation of ALL_OPERATIONS) {
      await vscode.commands.executeCommand('setContext', `lazyImages.workerLacks.${operation}`, !capabilities.operations.includes(operation));
    }
    return capabilities;
  }

  async supports(operation: Operation): Promise<boolean> {
    return (await this.capabilities()).operations.includes(operation);
  }

  /** The protocol version the worker answered, `MAJOR.MINOR`. */
  async protocolVersion(): Promise<string> {
    return String((await (await this.worker()).start()).protocolVersion);
  }

  async request<R>(method: string, params: object, options: RequestOptions): Promise<R> {
    const client = await this.worker();
    try {
      return await client.request<R>(method, params, options);
    } finally {
      // A worker the settings replaced leaves with its last job.
      if (client !== this.client && client.activeRequests === 0) void client.stop();
    }
  }

  /**
   * New settings take effect with the next job, on a new worker. Jobs still running on the old
   * one are the user's to keep or stop: a restart would fail them.
   */
  private async settingsChanged(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (!old) return;
    this.log.info(`Worker settings changed; ${count(old.activeRequests, 'job')} running on the old worker`);
    if (old.activeRequests === 0) return old.stop();
    const running = count(old.activeRequests, 'job');
    const choice = await vscode.window.showWarningMessage(
      `The Lazy Images worker settings changed. New jobs use the new settings; ${running} still ${old.activeRequests === 1 ? 'runs' : 'run'} on the old worker.`,
      'Let Them Finish',
      'Stop Them Now',
    );
    if (choice === 'Stop Them Now') await old.stop();
  }

  dispose(): void {
    const client = this.client;
    this.client = undefined;
    void client?.stop();
    for (const d of this.disposables) d.dispose();
  }
}
