// The questions before a conversion to eStargz: the new tag, then one list of options (gzip level,
// chunk size, files to prioritize, platforms) where Enter converts and picking an option changes it.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';
import { formatReference, parseDigest, parseReference, type ImageReference } from '../../core/oci/index.js';
import { shortName } from './jobParams.js';

export interface ConvertChoices {
  /** The converted image: the source's repository or layout, with the new tag. */
  destination: ImageReference;
  level: number;
  /** Undefined: the converter's default (4 MiB). */
  chunkSize?: number;
  prioritized: string[];
  allPlatforms: boolean;
}

/** Files to prioritize that an open Dockerfile suggests, by the Dockerfile's name. */
export interface PathList {
  label: string;
  paths: string[];
}

const DEFAULT_LEVEL = 9;

export async function askConvertOptions(source: ImageReference, suggestions: PathList[]): Promise<ConvertChoices | undefined> {
  const title = `Convert ${shortName(source)} to eStargz`;
  const tag = await vscode.window.showInputBox({
    title: `${title} (1/2)`,
    prompt: 'Tag of the converted image, in the same repository',
    value: `${source.tag ?? (source.digest ? parseDigest(source.digest).hex.slice(0, 12) : 'image')}-esgz`,
    ignoreFocusOut: true,
    validateInput: (text) => tagProblem(source, text.trim()),
  });
  if (tag === undefined) return undefined;
  const choices: ConvertChoices = { destination: { ...source, tag: tag.trim(), digest: undefined }, level: DEFAULT_LEVEL, prioritized: [], allPlatforms: false };
  for (;;) {
    const picked = await vscode.window.showQuickPick(optionItems(choices), { title: `${title} (2/2)`, placeHolder: 'Enter converts with these options; pick one to change it', ignoreFocusOut: true });
    switch (picked?.id) {
      case undefined:
        return undefined;
      case 'convert':
        return choices;
      case 'level':
        choices.level = (await askLevel(title)) ?? choices.level;
        break;
      case 'chunkSize':
        choices.chunkSize = await askSize(title, { name: 'chunk size', prompt: 'Files larger than this are split into chunks fetched separately. Empty: 4 MiB.' }, choices.chunkSize);
        break;
      case 'prioritized':
        choices.prioritized = (await askPrioritized(title, choices.prioritized, suggestions)) ?? choices.prioritized;
        break;
      case 'platforms':
        choices.allPlatforms = !choices.allPlatforms;
        break;
    }
  }
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

type OptionItem = vscode.QuickPickItem & { id: 'convert' | 'level' | 'chunkSize' | 'prioritized' | 'platforms' };

function optionItems(c: ConvertChoices): OptionItem[] {
  const prioritized = c.prioritized.length ? `${c.prioritized.length}: ${c.prioritized.join(', ')}` : 'none (nothing is prefetched)';
  return [
    { id: 'convert', label: '$(play) Convert', description: `to ${shortName(c.destination)}` },
    { id: 'level', label: 'Compression level', description: `${c.level}${c.level === DEFAULT_LEVEL ? ' (default: smallest, slowest)' : ''}` },
    { id: 'chunkSize', label: 'Chunk size', description: c.chunkSize === undefined ? '4 MiB (default)' : formatBytes(c.chunkSize) },
    { id: 'prioritized', label: 'Prioritized files', description: prioritized },
    { id: 'platforms', label: 'Platforms', description: c.allPlatforms ? 'every platform of an index' : 'this machine\'s, from an index (default)' },
  ];
}

async function askLevel(title: string): Promise<number | undefined> {
  const levels = [9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => ({ label: String(n), description: n === 9 ? 'smallest layers, slowest (default, as ctr-remote)' : n === 1 ? 'fastest, largest layers' : undefined }));
  const picked = await vscode.window.showQuickPick(levels, { title: `${title}: gzip level`, ignoreFocusOut: true });
  return picked ? Number(picked.label) : undefined;
}

/** `262144`, `256 KiB`, `4M`: bytes (0 when `zero` allows it). */
function parseSize(text: string, zero = false): number | undefined {
  const m = /^(\d+)\s*(k|kib|m|mib)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase().startsWith('k') ? 1024 : m[2] ? 1024 * 1024 : 1;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) && (bytes > 0 || (zero && bytes === 0)) ? bytes : undefined;
}

/** Asks for a size; empty means the default (undefined), Escape keeps `current`. */
export async function askSize(title: string, what: { name: string; prompt: string; zero?: boolean }, current: number | undefined): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: ${what.name}`,
    prompt: what.prompt,
    value: current === undefined ? '' : String(current),
    placeHolder: '4194304, 256 KiB, 1 MiB',
    ignoreFocusOut: true,
    validateInput: (t) => (!t.trim() || parseSize(t, what.zero) !== undefined ? undefined : 'A size in bytes, KiB or MiB'),
  });
  if (text === undefined) return current;
  return text.trim() ? parseSize(text, what.zero) : undefined;
}

async function askPrioritized(title: string, current: string[], suggestions: PathList[]): Promise<string[] | undefined> {
  const items: Array<vscode.QuickPickItem & { paths?: string[] }> = [
    { label: 'None', description: 'nothing is prefetched', paths: [] },
    ...suggestions.map((s) => ({ label: `From ${s.label}`, description: s.paths.join(', '), paths: s.paths })),
    { label: 'Enter paths...', description: 'comma-separated, e.g. /app/server.js' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: files to put first and prefetch`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.paths) return picked.paths;
  const text = await vscode.window.showInputBox({
    title: `${title}: files to put first and prefetch`,
    prompt: 'Paths in the image, comma-separated; each layer that has one puts it first',
    value: current.join(', '),
    placeHolder: '/app/server.js, /usr/bin/node',
    ignoreFocusOut: true,
  });
  return text === undefined ? undefined : text.split(',').map((p) => p.trim()).filter(Boolean);
}
