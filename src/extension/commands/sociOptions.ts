// The questions before building a SOCI index: one list of options (version, the new tag for v2,
// span size, minimum layer size, platforms) where Enter builds and picking an option changes it.
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import { DEFAULT_MIN_LAYER_SIZE, DEFAULT_SPAN_SIZE, type SociVersion } from '../../core/soci/index.js';
import { parseDigest, type ImageReference } from '../../core/oci/index.js';
import { askSize, tagProblem } from './convertOptions.js';
import { shortName } from './jobParams.js';

export interface SociChoices {
  version: SociVersion;
  /** v2: the SOCI-enabled image, beside the source under a new tag. v1 indexes the image itself. */
  destination: ImageReference;
  /** Undefined: the defaults (4 MiB spans, layers from 10 MiB). */
  spanSize?: number;
  minLayerSize?: number;
  allPlatforms: boolean;
}

type OptionItem = vscode.QuickPickItem & { id: 'build' | 'version' | 'tag' | 'spanSize' | 'minLayerSize' | 'platforms' };

export async function askSociOptions(source: ImageReference): Promise<SociChoices | undefined> {
  const title = `Build a SOCI index for ${shortName(source)}`;
  const tag = `${source.tag ?? (source.digest ? parseDigest(source.digest).hex.slice(0, 12) : 'image')}-soci`;
  const choices: SociChoices = { version: 'v2', destination: { ...source, tag, digest: undefined }, allPlatforms: false };
  for (;;) {
    const picked = await vscode.window.showQuickPick(optionItems(choices, source), { title, placeHolder: 'Enter builds with these options; pick one to change it', ignoreFocusOut: true });
    switch (picked?.id) {
      case undefined:
        return undefined;
      case 'build':
        return choices.version === 'v1' ? { ...choices, destination: source } : choices;
      case 'version':
        choices.version = choices.version === 'v2' ? 'v1' : 'v2';
        break;
      case 'tag': {
        const text = await vscode.window.showInputBox({
          title: `${title}: tag`, prompt: 'Tag of the SOCI-enabled image, in the same repository', value: choices.destination.tag, ignoreFocusOut: true,
          validateInput: (t) => tagProblem(source, t.trim()),
        });
        if (text !== undefined) choices.destination = { ...choices.destination, tag: text.trim() };
        break;
      }
      case 'spanSize':
        choices.spanSize = await askSize(title, { name: 'span size', prompt: 'Uncompressed bytes between checkpoints: a lazy read fetches whole spans. Empty: 4 MiB.' }, choices.spanSize);
        break;
      case 'minLayerSize':
        choices.minLayerSize = await askSize(title, { name: 'minimum layer size', prompt: 'Smaller layers get no zTOC and are pulled whole. Empty: 10 MiB.', zero: true }, choices.minLayerSize);
        break;
      case 'platforms':
        choices.allPlatforms = !choices.allPlatforms;
        break;
    }
  }
}

function optionItems(c: SociChoices, source: ImageReference): OptionItem[] {
  const v2 = c.version === 'v2';
  return [
    { id: 'build', label: '$(play) Build', description: v2 ? `a SOCI-enabled image at ${shortName(c.destination)}` : `an index referring to ${shortName(source)}` },
    { id: 'version', label: 'SOCI version', description: v2 ? 'v2 (default: a new image that carries its index)' : 'v1 (a referrer; soci-snapshotter ignores v1 unless configured)' },
    ...(v2 ? [{ id: 'tag', label: 'Tag', description: c.destination.tag } satisfies OptionItem] : []),
    { id: 'spanSize', label: 'Span size', description: c.spanSize === undefined ? `${formatBytes(DEFAULT_SPAN_SIZE)} (default)` : formatBytes(c.spanSize) },
    { id: 'minLayerSize', label: 'Minimum layer size', description: c.minLayerSize === undefined ? `${formatBytes(DEFAULT_MIN_LAYER_SIZE)} (default)` : formatBytes(c.minLayerSize) },
    { id: 'platforms', label: 'Platforms', description: c.allPlatforms ? 'every platform of an index' : 'this machine\'s, from an index (default)' },
  ];
}
