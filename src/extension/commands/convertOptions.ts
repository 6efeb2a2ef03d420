// The questions before a conversion to eStargz, in the shared wizard: the new tag (for many images,
// a tag rule), gzip level, chunk size, files to prioritize (paths, or a recorded startup profile)
// and platforms; level, chunk size and platforms are remembered.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { count, formatBytes } from '../../core/format.js';
import { formatReference, parseReference, type ImageReference } from '../../core/oci/index.js';
import type { StartupProfile } from '../../core/optimize/index.js';
import { tagRuleProblem } from './batchPlan.js';
import { shortName } from './jobParams.js';
import { askSize, askTag, proposedTag, runWizard, type WizardMemory } from './wizard.js';

export interface ConvertChoices {
  /** The converted image: the source's repository or layout, with the new tag. */
  destination: ImageReference;
  level: number;
  /** Undefined: the converter's default (4 MiB). */
  chunkSize?: number;
  prioritized: string[];
  /** Each of its files first in the layer it was recorded from, instead of `prioritized`. */
  startupProfile?: NamedProfile;
  allPlatforms: boolean;
  /** Many images (Convert Many...): each one's tag, beside its source, as a rule (`<tag>-esgz`). */
  tagRule?: string;
}

/** A recorded startup profile, by the file it came from. */
export interface NamedProfile {
  label: string;
  profile: StartupProfile;
}

/** Files to prioritize that an open Dockerfile suggests, by the Dockerfile's name. */
export interface PathList {
  label: string;
  paths: string[];
}

const DEFAULT_LEVEL = 9;
const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
type Remembered = Pick<ConvertChoices, 'level' | 'chunkSize' | 'allPlatforms'>;

/**
 * `again` when the source is eStargz already, so the proposed tag says it is a re-conversion;
 * `profile`, a recorded startup profile to prioritize with (the user may pick paths instead);
 * `many`, the images are several (`3 images`, `source` the first): a tag rule instead of a tag.
 */
export async function askConvertOptions(source: ImageReference, suggestions: PathList[], memory: WizardMemory, again = false, profile?: NamedProfile, many?: string): Promise<ConvertChoices | undefined> {
  const title = many ? `Convert ${many} to eStargz` : `Convert ${shortName(source)} to eStargz`;
  const remembered = memory.recall<Remembered>('convert', { level: DEFAULT_LEVEL, chunkSize: undefined, allPlatforms: false });
  const choices: ConvertChoices = {
    destination: { ...source, tag: proposedTag(source, again ? 'reconverted' : 'esgz'), digest: undefined }, prioritized: [], startupProfile: profile, ...remembered,
    ...(many ? { tagRule: '<tag>-esgz' } : {}),
  };
  const done = await runWizard<ConvertChoices>({
    title,
    go: { label: '$(play) Convert', describe: (c) => (many ? `each to the tag ${c.tagRule} beside it` : `to ${shortName(c.destination)}`) },
    options: [
      { id: 'tag', label: 'Tag', when: () => !many, describe: (c) => c.destination.tag ?? '', change: async (c, t) => {
        c.destination = { ...c.destination, tag: await askTag(t, 'Tag of the converted image, in the same repository', c.destination.tag ?? '', (tag) => tagProblem(source, tag)) };
      } },
      { id: 'tagRule', label: 'Tag rule', when: () => many !== undefined, describe: (c) => c.tagRule ?? '', change: async (c, t) => {
        c.tagRule = await askTag(t, 'Tag of each converted image, beside its source: <tag> is the source\'s tag', c.tagRule ?? '', tagRuleProblem);
      } },
      { id: 'level', label: 'Compression level', describe: (c) => `${c.level}${c.level === DEFAULT_LEVEL ? ' (default: smallest, slowest)' : ''}`, change: async (c, t) => {
        c.level = (await askLevel(t)) ?? c.level;
      } },
      { id: 'chunkSize', label: 'Chunk size', describe: (c) => (c.chunkSize === undefined ? `${formatBytes(DEFAULT_CHUNK_SIZE)} (default)` : formatBytes(c.chunkSize)), change: async (c, t) => {
        c.chunkSize = await askSize(t, { name: 'chunk size', prompt: `Files larger than this are split into chunks fetched separately. Empty: ${formatBytes(DEFAULT_CHUNK_SIZE)}.` }, c.chunkSize);
      } },
      { id: 'prioritized', label: 'Prioritized files', describe: describePrioritized, change: async (c, t) => {
        const picked = await askPrioritized(t, c.prioritized, suggestions, profile);
        if (picked) Object.assign(c, picked);
      } },
      { id: 'platforms', label: 'Platforms', describe: (c) => (c.allPlatforms ? 'every platform of an index' : 'this machine\'s, from an index (default)'), change: async (c) => {
        c.allPlatforms = !c.allPlatforms;
      } },
    ],
  }, choices);
  if (done) await memory.remember<Remembered>('convert', { level: done.level, chunkSize: done.chunkSize, allPlatforms: done.allPlatforms });
  return done;
}

/** Why a tag cannot name the new image beside the source, if it cannot. */
export function tagProblem(source: ImageReference, tag: string): string | undefined {
  if (!tag) return 'Enter a tag';
  if (tag === source.tag) return 'That is the source\'s own tag: the new image needs another one';
  try {
    if (parseReference(formatReference({ ...source, tag, digest: undefined })).tag === tag) return undefined;
  } catch (e) {
    return describeError(e);
  }
  return `${tag} is not a valid tag`;
}

export async function askLevel(title: string): Promise<number | undefined> {
  const levels = [9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => ({ label: String(n), description: n === 9 ? 'smallest layers, slowest (default, as ctr-remote)' : n === 1 ? 'fastest, largest layers' : undefined }));
  const picked = await vscode.window.showQuickPick(levels, { title: `${title}: gzip level`, ignoreFocusOut: true });
  return picked ? Number(picked.label) : undefined;
}

function describePrioritized(c: ConvertChoices): string {
  if (c.startupProfile) return `the startup profile recorded in ${c.startupProfile.label}: ${count(c.startupProfile.profile.files.length, 'file')}, each first in the layer it was read from`;
  return c.prioritized.length ? `${c.prioritized.length}: ${c.prioritized.join(', ')}` : 'none (nothing is prefetched)';
}

type Prioritized = Pick<ConvertChoices, 'prioritized' | 'startupProfile'>;

async function askPrioritized(title: string, current: string[], suggestions: PathList[], profile?: NamedProfile): Promise<Prioritized | undefined> {
  const items: Array<vscode.QuickPickItem & { choice?: Prioritized }> = [
    ...(profile ? [{ label: `The startup profile recorded in ${profile.label}`, description: count(profile.profile.files.length, 'file'), choice: { prioritized: [], startupProfile: profile } }] : []),
    { label: 'None', description: 'nothing is prefetched', choice: { prioritized: [] } },
    ...suggestions.map((s) => ({ label: `From ${s.label}`, description: `${count(s.paths.length, 'path')}: ${s.paths.join(', ')}`, choice: { prioritized: s.paths } })),
    { label: 'Enter paths...', description: 'comma-separated, e.g. /app/server.js' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: files to put first and prefetch`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.choice) return { startupProfile: undefined, ...picked.choice };
  const text = await vscode.window.showInputBox({
    title: `${title}: files to put first and prefetch`,
    prompt: 'Paths in the image, comma-separated; each layer that has one puts it first',
    value: current.join(', '),
    placeHolder: '/app/server.js, /usr/bin/node',
    ignoreFocusOut: true,
  });
  return text === undefined ? undefined : { prioritized: text.split(',').map((p) => p.trim()).filter(Boolean), startupProfile: undefined };
}
