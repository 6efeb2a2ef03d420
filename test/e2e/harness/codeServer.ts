// A real VS Code (code-server 4.100.3, installed by test/e2e/setup.sh) with the freshly packaged
// extension installed, on 127.0.0.1, with its own user data and an empty browser profile.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../integration/fixtures/registry.js';

export const ROOT = resolve(__dirname, '..', '..', '..', '..');
/** Where test/e2e/setup.sh installs code-server (outside the repository). */
const CODE_SERVER = join(process.env.LAZYIMG_E2E_DIR ?? join(homedir(), '.cache', 'lazy-images', 'code-server-4.100.3'), 'node_modules', '.bin', 'code-server');
const VSIX = join(ROOT, 'lazy-images.vsix');

export interface CodeServer {
  url: string;
  workspace: string;
  userDataDir: string;
  /** Every file the server wrote under its user data folder, for secret scans. */
  files(): Promise<string[]>;
  /** The "Lazy Images" log channel's file, as the extension host wrote it. */
  extensionLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /** Files to create in the workspace folder before the server starts. */
  prepareWorkspace?: (dir: string) => Promise<void>;
  settings?: Record<string, unknown>;
  /** false: the workspace opens in Restricted Mode, as an unknown clone does. */
  trusted?: boolean;
  /**
   * Open the folder through a `.code-workspace` file: a window that is a workspace already takes
   * more folders without turning into an untitled workspace and reloading.
   */
  workspaceFile?: boolean;
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER)) throw new Error(`code-server is missing at ${CODE_SERVER}: run npm run setup:e2e`);
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package`);
  const dir = await mkdtemp(join(tmpdir(), 'lazyimg-e2e-'));
  const userDataDir = join(dir, 'user-data');
  const extensionsDir = join(dir, 'extensions');
  const workspace = join(dir, 'workspace');
  await mkdir(join(userDataDir, 'User'), { recursive: true });
  await mkdir(workspace, { recursive: true });
  await writeFile(join(userDataDir, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    // Untrusted: trust is on, and the workspace opens restricted without the startup question.
    'security.workspace.trust.enabled': options.trusted === false,
    'security.workspace.trust.startupPrompt': 'never',
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    ...options.settings,
  }, null, 2));
  await options.prepareWorkspace?.(workspace);
  const workspaceFile = join(dir, 'test.code-workspace');
  if (options.workspaceFile) await writeFile(workspaceFile, JSON.stringify({ folders: [{ path: workspace }] }));
  const opened = options.workspaceFile ? workspaceFile : workspace;
  await promisify(execFile)(CODE_SERVER, ['--install-extension', VSIX, '--extensions-dir', extensionsDir]);

  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(CODE_SERVER, [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', ...(options.trusted === false ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', opened,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config') } });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`code-server did not start:\n${output}`);
    await sleep(200);
  }

  const files = async (): Promise<string[]> => listFiles(userDataDir);
  return {
    url: `${url}/?${options.workspaceFile ? 'workspace' : 'folder'}=${encodeURIComponent(opened)}`,
    workspace,
    userDataDir,
    files,
    extensionLog: async () => {
      const logs = (await files()).filter((f) => f.endsWith('Lazy Images.log'));
      return (await Promise.all(logs.map((f) => readFile(f, 'utf8')))).join('\n');
    },
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))));
  return nested.flat();
}
