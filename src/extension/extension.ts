// Activation: builds the services, the tree and the commands, and hands every disposable to VS Code.
import * as vscode from 'vscode';
import { describeError } from '../core/errors.js';
import { FetchedStatus } from './browse/FetchedStatus.js';
import { IMAGE_SCHEME, ImageFileSystem } from './browse/ImageFileSystem.js';
import { batchCommands } from './commands/batch.js';
import { browseCommands, offerToMakeLazy } from './commands/browse.js';
import { dockerfileCommands } from './commands/dockerfile.js';
import { estargzCommands } from './commands/estargz.js';
import { imageCommands } from './commands/images.js';
import { jobCommands } from './commands/jobs.js';
import { optimizeCommands } from './commands/optimize.js';
import { PullChannel, pullCommands } from './commands/pullLazily.js';
import { registryCommands } from './commands/registries.js';
import { sociCommands } from './commands/soci.js';
import { snapshotterCommands } from './commands/snapshotters.js';
import { viewCommands } from './commands/view.js';
import type { CommandDeps } from './commands/deps.js';
import { WizardMemory } from './commands/wizard.js';
import { CredentialStore } from './CredentialStore.js';
import { DockerfileAnalyzer } from './dockerfile/DockerfileAnalyzer.js';
import { DockerfileDiagnostics } from './dockerfile/DockerfileDiagnostics.js';
import { DockerfileLenses } from './dockerfile/DockerfileLenses.js';
import { StartupProfiles } from './dockerfile/StartupProfiles.js';
import { JobManager } from './jobs/JobManager.js';
import { LAZY_FILE_SCHEME, LazyFiles } from './LazyFiles.js';
import { WorkerConsent } from './jobs/WorkerConsent.js';
import { WorkerHost } from './jobs/WorkerHost.js';
import { LayoutFinder } from './LayoutFinder.js';
import { MANIFEST_SCHEME, ManifestDocuments } from './ManifestDocuments.js';
import { RegistrySettings } from './RegistrySettings.js';
import { REPORT_SCHEME, ReportDocuments } from './reports/ReportDocuments.js';
import { Services } from './Services.js';
import { ConfigDiagnostics } from './snapshotters/ConfigDiagnostics.js';
import { Dashboards } from './snapshotters/Dashboards.js';
import { LogFollowers } from './snapshotters/LogFollowers.js';
import { SNAPSHOTTER_KINDS, Snapshotters } from './snapshotters/Snapshotters.js';
import { SnapshotterStatusBar } from './snapshotters/SnapshotterStatusBar.js';
import { LazyImagesTreeProvider } from './tree/LazyImagesTreeProvider.js';
import { nodeId, type Node } from './tree/nodes.js';
import { ImageReports } from './webviews/ImageReports.js';
import { JobReports } from './webviews/JobReports.js';

/** One tree, in two places: a section of the Explorer, and a container of its own in the activity bar. */
const VIEW_IDS = ['lazyImages.explorer', 'lazyImages.images'];

export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const log = vscode.window.createOutputChannel('Lazy Images', { log: true });
  const settings = new RegistrySettings(context.globalState);
  const credentials = new CredentialStore(context.secrets);
  const layouts = new LayoutFinder(settings);
  const services = new Services(log, settings, credentials, layouts);
  const worker = new WorkerHost(context.extensionUri, log, new WorkerConsent(context.globalState));
  const reports = new ReportDocuments();
  const jobReports = new JobReports(context.extensionUri, reports);
  const jobs = new JobManager(worker, log, jobReports);
  const snapshotters = new Snapshotters(context.globalStorageUri, log);
  const tree = new LazyImagesTreeProvider(services, jobs, snapshotters);
  // Several tags at once (Ctrl+click) for the batch commands, which get the whole selection.
  const views = VIEW_IDS.map((id) => vscode.window.createTreeView(id, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true }));
  // The Snapshotters rows are read again on the timer only while a view that shows them is visible.
  const treeWants = (): void => snapshotters.want('tree', views.some((v) => v.visible) && tree.showsSnapshotters() ? SNAPSHOTTER_KINDS : []);
  const logs = new LogFollowers(snapshotters);
  const dashboards = new Dashboards(context.extensionUri, snapshotters, log);
  const pulls = new PullChannel();

  const analyzer = new DockerfileAnalyzer(services, context.workspaceState);
  const diagnostics = new DockerfileDiagnostics(analyzer);
  const imageReports = new ImageReports(context.extensionUri, services);
  const files = new LazyFiles(services, tree.layers);
  const images = new ImageFileSystem(services, context.globalState, (ref, merged) => void offerToMakeLazy(ref, merged));
  const dockerfiles = [{ language: 'dockerfile', scheme: 'file' }, { language: 'dockerfile', scheme: 'untitled' }];

  const profiles = new StartupProfiles();
  const lenses = new DockerfileLenses(analyzer, profiles);
  const deps: CommandDeps = { services, jobs, tree, analyzer, reports, imageReports, memory: new WizardMemory(context.globalState), profiles };
  /** Shows a node in whichever of the two views is open (the Explorer's by default). */
  const reveal = async (node: Node): Promise<void> => {
    await (views.find((v) => v.visible) ?? views[0]!).reveal(node, { select: true, focus: true, expand: false });
  };
  const commands: Record<string, (...args: never[]) => unknown> = {
    ...registryCommands(deps),
    ...imageCommands(deps),
    ...viewCommands(deps),
    ...jobCommands(deps, reveal),
    ...dockerfileCommands(deps),
    ...estargzCommands(deps),
    ...optimizeCommands(deps),
    ...sociCommands(deps),
    ...batchCommands(deps, context.globalStorageUri, String((context.extension.packageJSON as { version?: unknown }).version ?? '')),
    ...browseCommands(deps, images),
    ...snapshotterCommands(snapshotters, logs, dashboards),
    ...pullCommands(services, snapshotters, pulls),
  };
  context.subscriptions.push(
    log, layouts, services, worker, jobs, jobReports, snapshotters, tree, ...views, logs, dashboards, pulls, new ConfigDiagnostics(snapshotters), new SnapshotterStatusBar(snapshotters),
    ...views.map((v) => v.onDidChangeVisibility(treeWants)), snapshotters.onDidChange(treeWants), analyzer, diagnostics, reports, imageReports, files, profiles, lenses,
    vscode.languages.registerCodeLensProvider(dockerfiles, lenses),
    vscode.languages.registerCodeActionsProvider(dockerfiles, diagnostics, { providedCodeActionKinds: DockerfileDiagnostics.kinds }),
    jobs.onDidChange(() => tree.jobsChanged()),
    vscode.workspace.registerTextDocumentContentProvider(MANIFEST_SCHEME, new ManifestDocuments(services)),
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    vscode.workspace.registerFileSystemProvider(LAZY_FILE_SCHEME, files, { isReadonly: true, isCaseSensitive: true }),
    vscode.workspace.registerFileSystemProvider(IMAGE_SCHEME, images, { isReadonly: true, isCaseSensitive: true }),
    images, new FetchedStatus(images),
    ...Object.entries(commands).map(([name, handler]) => vscode.commands.registerCommand(`lazyImages.${name}`, reportErrors(log, name, handler))),
    layouts.onDidChange(({ list, layouts: changed }) => {
      if (changed.length) log.info(`Changed on disk: ${changed.join(', ')}`);
      if (list) tree.refresh({ kind: 'layoutsRoot' });
      for (const path of changed) tree.refresh(nodeId({ kind: 'layout', path, label: path }));
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lazyImages.insecureRegistries')) services.rebuildStores();
      if (e.affectsConfiguration('lazyImages')) tree.refresh();
    }),
    // The workspace's own insecure registries count from now on.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      services.rebuildStores();
      tree.refresh();
    }),
  );
  log.info(`Lazy Images activated in ${Date.now() - started} ms`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/** A command that fails tells the user once and logs why; it never leaves an unhandled rejection. */
function reportErrors(log: vscode.LogOutputChannel, name: string, handler: (...args: never[]) => unknown) {
  return async (...args: never[]): Promise<void> => {
    try {
      await handler(...args);
    } catch (e) {
      log.error(`${name}: ${describeError(e)}`);
      void vscode.window.showErrorMessage(`Lazy Images: ${describeError(e)}`);
    }
  };
}
