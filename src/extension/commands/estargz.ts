// eStargz commands on the worker: Convert to eStargz... (then the new tag appears in the tree),
// the same with a Dockerfile's recorded startup profile (its lens), and Verify Lazy Pull Readiness
// and Verify Deeply (then the image report shows what they found). From a tree node or the palette.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import { imageLaziness } from '../../core/image/index.js';
import { verifyProblemLines } from '../../core/jobs/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { ConvertResult, VerifyResult } from '../../worker/protocol.js';
import { isLazy } from '../reports/imageReport.js';
import { imageParentId, type Node } from '../tree/nodes.js';
import { askConvertOptions, type ConvertChoices, type NamedProfile, type PathList } from './convertOptions.js';
import type { CommandDeps } from './deps.js';
import { jobParams, jobSpec, shortName } from './jobParams.js';
import { imageOrPick, pickImage } from './pickImage.js';

export function estargzCommands({ services, jobs, tree, analyzer, imageReports, memory, profiles }: CommandDeps) {
  /** What the open Dockerfiles' lenses would prioritize. */
  const suggestions = (): PathList[] => vscode.workspace.textDocuments
    .filter((d) => d.languageId === 'dockerfile')
    .map((d) => ({ label: vscode.workspace.asRelativePath(d.uri), paths: [...new Set(analyzer.analyze(d).findings.flatMap((f) => f.files ?? []))] }))
    .filter((s) => s.paths.length > 0);

  /** Whether converting again is what the user wants, for an image that is eStargz already. */
  const alreadyEstargz = async (source: ImageReference): Promise<boolean | undefined> => {
    const image = await imageLaziness(await services.stores.open(source), source.digest ?? source.tag).catch(() => undefined);
    if (!image || image.layers.length === 0 || !image.layers.every((l) => l.estargz)) return false;
    const again = await vscode.window.showWarningMessage(
      `${shortName(source)} is eStargz already. Convert it again?`,
      { modal: true, detail: 'A second conversion makes a new image with the options you choose (level, chunk size, prioritized files); the layers stay eStargz.' },
      'Convert Again',
    );
    return again ? true : undefined;
  };

  /** The verify job, with `deep` also each index against its layer's bytes; then the image report shows what it found. */
  const verifyLazyPull = async (node: Node | undefined, deep: boolean): Promise<void> => {
    const what = deep ? 'Verify Deeply' : 'Verify Lazy Pull Readiness';
    const ref = await imageOrPick(services, node, what);
    if (!ref) return;
    const reference = formatReference(ref);
    const result = await jobs.run<VerifyResult>('verify', {
      ...jobSpec('Lazy pull', `${deep ? 'Deeply verify' : 'Verify'} lazy pull readiness of ${reference}`, ref),
      summarize: (r) => {
        const layers = r.layers ?? [];
        return `${r.ok ? 'ready' : 'NOT READY'}: ${layers.filter(isLazy).length} of ${count(layers.length, 'layer')} lazy${r.ok ? '' : `; ${count(verifyProblemLines(r).length, 'problem')}`}`;
      },
      view: (r) => () => imageReports.show(ref, r),
    }, { reference, deep, ...(await jobParams(services, [ref])) });
    // A worker older than protocol 1.4 ignores `deep` and runs the ordinary checks.
    if (deep && result && result.deep !== true) void vscode.window.showWarningMessage(`The worker did not check ${reference} deeply (it predates protocol 1.4): the report is that of Verify Lazy Pull Readiness.`);
    if (result) await imageReports.show(ref, result);
  };

  /** Asks for the options, then converts on the worker; the new tag appears beside the source. */
  const convert = async (source: ImageReference, profile?: NamedProfile): Promise<void> => {
    const again = await alreadyEstargz(source);
    if (again === undefined) return;
    const choices = await askConvertOptions(source, suggestions(), memory, again, profile);
    if (!choices) return;
    const { destination } = choices;
    const { record, result } = await jobs.runJob<ConvertResult>('convert', {
      ...jobSpec('eStargz', `Convert ${formatReference(source)} to eStargz at ${formatReference(destination)}`, source, destination),
      makes: 'eStargz',
      ...(choices.startupProfile ? { needs: { version: '1.6', what: 'converting with a startup profile' } } : {}),
      summarize: (r) => `${r.descriptor.digest}: ${count(r.layers.length, 'layer')}, ${formatBytes(sum(r.layers, 'sourceSize'))} → ${formatBytes(sum(r.layers, 'size'))}`,
    }, {
      source: formatReference(source),
      destination: formatReference(destination),
      format: 'estargz',
      level: choices.level,
      chunkSize: choices.chunkSize,
      prioritized: choices.prioritized,
      ...(choices.startupProfile ? { startupProfile: choices.startupProfile.profile } : {}),
      allPlatforms: choices.allPlatforms,
      ...(await jobParams(services, [source, destination])),
    });
    if (!result) return;
    tree.refresh(imageParentId(destination)); // the new tag sits beside the source
    if (result.missing.length) {
      void jobs.tell(record, 'warning', `${formatReference(destination)} is written, but no layer has these prioritized files: ${result.missing.join(', ')}`);
    } else {
      void jobs.tell(record, 'info', `Converted to eStargz: ${formatReference(destination)} (${count(result.layers.length, 'layer')}${prioritizedWith(choices)}).`);
    }
  };

  return {
    async convertToEstargz(node?: Node): Promise<void> {
      const source = await imageOrPick(services, node, 'Convert to eStargz');
      if (source) await convert(source);
    },

    /** The lens of a Dockerfile with a recorded profile: the image built from it (or one picked), converted with that profile. */
    async convertWithStartupProfile(uri: vscode.Uri): Promise<void> {
      const saved = await profiles.get(uri);
      if (!saved || 'error' in saved) {
        void vscode.window.showErrorMessage(saved ? `${vscode.workspace.asRelativePath(saved.uri)} is not a startup profile: ${saved.error}` : `No startup profile is saved beside ${vscode.workspace.asRelativePath(uri)}.`);
        return;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      const source = analyzer.image(document) ?? await pickImage(services, `Convert with ${basename(saved.uri.fsPath)}: the image built from ${basename(uri.fsPath)}`);
      if (source) await convert(source, { label: basename(saved.uri.fsPath), profile: saved.profile });
    },

    verifyLazyPull: (node?: Node): Promise<void> => verifyLazyPull(node, false),
    verifyDeep: (node?: Node): Promise<void> => verifyLazyPull(node, true),
  };
}

function prioritizedWith(c: ConvertChoices): string {
  return c.startupProfile ? `; the ${count(c.startupProfile.profile.files.length, 'file')} of ${c.startupProfile.label} first in their layers` : '';
}

function sum<K extends 'size' | 'sourceSize'>(layers: ConvertResult['layers'], key: K): number {
  return layers.reduce((total, l) => total + l[key], 0);
}
