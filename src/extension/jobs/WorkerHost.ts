// The worker process seen from the extension: started on first use (ours, or the command the
// user configured), its stderr in the log, its capabilities as context keys, and one clear
// notification if it dies. The next job starts a fresh one.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RequestOptions, WorkerClient, WorkerCommand } from '../../worker/client.js';
import type { Operation, WorkerCapabilities } from '../../worker/protocol.js';

const ALL_OPERATIONS: readonly Operation[] = ['convert', 'copy', 'index', 'inspect', 'verify'];

export class WorkerHost implements vscode.Disposable {
  private client: WorkerClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** How many times a worker died on us; jobs compare it to know why they failed. */
  crashes = 0;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lazyImages.worker')) void this.restart();
    }));
  }

  private command(): WorkerCommand {
    const config = vscode.workspace.getConfiguration('lazyImages.worker');
    const command = config.get<string>('command', '').trim();
    if (command) return { command, args: config.get<string[]>('args', []) };
    // Our own worker runs on the editor's runtime; Electron acts as plain Node with this variable.
    return { command: process.execPath, args: [join(this.extensionUri.fsPath, 'dist', 'worker.js')], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
  }

  private get worker(): WorkerClient {
    if (!this.client) {
      const worker = this.command();
      this.log.info(`Worker: ${worker.command} ${worker.args.join(' ')}`);
      // Loaded on the first job, with its JSON-RPC library: activation does not pay for it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WorkerClient } = require('../../worker/client.js') as typeof import('../../worker/client.js');
      this.client = new WorkerClient({
        worker,
        clientName: 'lazy-images-vscode',
        maxConcurrentJobs: vscode.workspace.getConfiguration('lazyImages.worker').get<number>('maxConcurrentJobs', 2),
        onLog: (line) => this.log.info(`[worker] ${line}`),
        onExit: (reason, expected) => {
          if (expected) return this.log.info(`Worker stopped: ${reason}`);
          this.crashes++;
          this.log.error(`Worker stopped unexpectedly: ${reason}`);
          void vscode.window.showErrorMessage(`The Lazy Images worker stopped (${reason}). Its running jobs failed; the next job starts a new worker.`);
        },
      });
    }
    return this.client;
  }

  /** Starts the worker if needed; records what it can do for `when` clauses. */
  async capabilities(): Promise<WorkerCapabilities> {
    const { capabilities, serverInfo } = await this.worker.start();
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

  request<R>(method: string, params: object, options: RequestOptions): Promise<R> {
    return this.worker.request<R>(method, params, options);
  }

  private async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    await old?.stop();
  }

  dispose(): void {
    void this.restart();
    for (const d of this.disposables) d.dispose();
  }
}
