// Optimize for Startup... on the worker: run the image's workload (or another command) in a
// container for a while, record the files it reads, and convert with those first in their layers.
// Then the recorded list opens as a report, the new tag appears beside the source, and the profile
// can be saved beside a Dockerfile of the workspace, where its lens converts with it again.
import * as vscode from 'vscode';
import { count } from '../../core/format.js';
import { readImageConfig, resolveImage } from '../../core/image/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { profileText, type StartupProfile } from '../../core/optimize/index.js';
import type { OptimizeResult } from '../../worker/protocol.js';
import { profileUri } from '../dockerfile/StartupProfiles.js';
import { workspaceDockerfiles } from '../dockerfile/workspaceDockerfiles.js';
import type { JobRecord } from '../jobs/JobManager.js';
import { renderStartupReport } from '../reports/startupReport.js';
import type { Report } from '../reports/ReportDocuments.js';
import { restrictedSetting } from '../restrictedSetting.js';
import { imageParentId, type Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { jobParams, jobSpec, shortName } from './jobParams.js';
import { askOptimizeOptions } from './optimizeOptions.js';
import { imageOrPick } from './pickImage.js';

const SAVE_BESIDE = 'Save Profile Next to Dockerfile';
const SAVE_AS = 'Save Profile As...';

export function optimizeCommands({ services, jobs, tree, reports, memory, profiles }: CommandDeps) {
  /** The image's own command line: its config's entrypoint, then its command. */
  const imageCommand = async (ref: ImageReference): Promise<string[]> => {
    const store = await services.stores.open(ref);
    const { image } = await resolveImage(store, ref.digest ?? ref.tag, 'Cannot optimize');
    const config = (await readImageConfig(store, image.manifest.config)).config;
    return [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
  };

  /** Writes the profile where the user says: beside a Dockerfile (picked when there are several), or anywhere. */
  const offerToSave = async (profile: StartupProfile, message: string, record: JobRecord | undefined): Promise<void> => {
    const dockerfiles = await workspaceDockerfiles();
    const choice = await jobs.tell(record, 'info', message, ...(dockerfiles.length ? [SAVE_BESIDE] : []), SAVE_AS);
    let target: vscode.Uri | undefined;
    if (choice === SAVE_BESIDE) {
      const dockerfile = dockerfiles.length === 1 ? dockerfiles[0] : (await vscode.window.showQuickPick(
        dockerfiles.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
        { title: SAVE_BESIDE, placeHolder: 'Which Dockerfile builds this image?', ignoreFocusOut: true },
      ))?.uri;
      target = dockerfile && profileUri(dockerfile);
      if (target && !(await replaceable(target))) return;
    } else if (choice === SAVE_AS) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      target = await vscode.window.showSaveDialog({ title: SAVE_AS, filters: { 'Startup profile': ['json'] }, ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'startup.json') } : {}) });
    }
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(profileText(profile)));
    profiles.forget(target);
    vscode.window.setStatusBarMessage(`$(check) Saved ${vscode.workspace.asRelativePath(target)}`, 5000);
  };

  return {
    async optimizeForStartup(node?: Node): Promise<void> {
      const source = await imageOrPick(services, node, 'Optimize for Startup');
      if (!source) return;
      const choices = await askOptimizeOptions(source, await imageCommand(source), memory);
      if (!choices) return;
      const { destination } = choices;
      const runtime = restrictedSetting('lazyImages.optimize', 'runtime', '').value.trim();
      let report: Report | undefined;
      const { record, result } = await jobs.runJob<OptimizeResult>('optimize', {
        ...jobSpec('Optimize', `Optimize ${formatReference(source)} for startup at ${formatReference(destination)}`, source, destination),
        makes: 'eStargz', // the format the worker converts to when none is asked for
        summarize: (r) => `${count(r.profile.files.length, 'file')} recorded (${r.profile.run.stopped ? 'stopped at its period' : `exited with ${r.profile.run.exitCode ?? 'a signal'}`}), ${r.format === 'soci' ? `${count(r.indexes.length, 'SOCI index', 'SOCI indexes')} built` : `${count(r.layers.length, 'layer')} converted`}`,
        report: (r) => (report = {
          title: `${shortName(source)} startup profile`,
          subject: formatReference(destination),
          markdown: renderStartupReport({ name: shortName(source), source: formatReference(source), destination: formatReference(destination), profile: r.profile, output: r.output }),
        }),
      }, {
        source: formatReference(source),
        destination: formatReference(destination),
        ...(choices.command ? { entrypoint: choices.command } : {}),
        periodSeconds: choices.periodSeconds,
        network: choices.network,
        level: choices.level,
        ...(runtime ? { runtime } : {}),
        ...(await jobParams(services, [source, destination])),
      });
      if (!result) return;
      tree.refresh(imageParentId(destination)); // the new tag sits beside the source
      if (report) await reports.show(report);
      await offerToSave(result.profile, `Optimized for startup: ${formatReference(destination)}, with the ${count(result.profile.files.length, 'file')} the workload read first in their layers.`, record);
    },
  };
}

/** A profile already beside the Dockerfile is replaced only once the user says so. */
async function replaceable(target: vscode.Uri): Promise<boolean> {
  const exists = await vscode.workspace.fs.stat(target).then(() => true, () => false);
  if (!exists) return true;
  const replace = await vscode.window.showWarningMessage(
    `Replace ${vscode.workspace.asRelativePath(target)}?`,
    { modal: true, detail: 'It holds the startup profile recorded before; the Dockerfile\'s lens converts with the new one from now on.' },
    'Replace',
  );
  return replace === 'Replace';
}
