// The questions before building a SOCI index, in the shared wizard: version, the new tag for v2
// (for many images, a tag rule), span size, minimum layer size and platforms; all but the tag are
// remembered.
import { formatBytes } from '../../core/format.js';
import { DEFAULT_MIN_LAYER_SIZE, DEFAULT_SPAN_SIZE, type SociVersion } from '../../core/soci/index.js';
import type { ImageReference } from '../../core/oci/index.js';
import { tagRuleProblem } from './batchPlan.js';
import { tagProblem } from './convertOptions.js';
import { shortName } from './jobParams.js';
import { askSize, askTag, proposedTag, runWizard, type WizardMemory } from './wizard.js';

export interface SociChoices {
  version: SociVersion;
  /** v2: the SOCI-enabled image, beside the source under a new tag. v1 indexes the image itself. */
  destination: ImageReference;
  /** Undefined: the defaults (4 MiB spans, layers from 10 MiB). */
  spanSize?: number;
  minLayerSize?: number;
  allPlatforms: boolean;
  /** Many images (Index Many...): v2's tag for each, beside its source, as a rule (`<tag>-soci`). */
  tagRule?: string;
}

type Remembered = Pick<SociChoices, 'version' | 'spanSize' | 'minLayerSize' | 'allPlatforms'>;

/** `many`: the images are several (`3 images`), and the wizard asks a tag rule instead of a tag; `source` is the first. */
export async function askSociOptions(source: ImageReference, memory: WizardMemory, many?: string): Promise<SociChoices | undefined> {
  const remembered = memory.recall<Remembered>('index', { version: 'v2', spanSize: undefined, minLayerSize: undefined, allPlatforms: false });
  const done = await runWizard<SociChoices>({
    title: many ? `Build SOCI indexes for ${many}` : `Build a SOCI index for ${shortName(source)}`,
    go: { label: '$(play) Build', describe: (c) => {
      if (many) return c.version === 'v2' ? `SOCI-enabled images tagged ${c.tagRule}, each beside its source` : 'indexes referring to each image';
      return c.version === 'v2' ? `a SOCI-enabled image at ${shortName(c.destination)}` : `an index referring to ${shortName(source)}`;
    } },
    options: [
      { id: 'version', label: 'SOCI version', describe: (c) => (c.version === 'v2' ? 'v2 (default: a new image that carries its index)' : 'v1 (a referrer; soci-snapshotter ignores v1 unless configured)'), change: async (c) => {
        c.version = c.version === 'v2' ? 'v1' : 'v2';
      } },
      { id: 'tag', label: 'Tag', when: (c) => !many && c.version === 'v2', describe: (c) => c.destination.tag ?? '', change: async (c, t) => {
        c.destination = { ...c.destination, tag: await askTag(t, 'Tag of the SOCI-enabled image, in the same repository', c.destination.tag ?? '', (value) => tagProblem(source, value)) };
      } },
      { id: 'tagRule', label: 'Tag rule', when: (c) => many !== undefined && c.version === 'v2', describe: (c) => c.tagRule ?? '', change: async (c, t) => {
        c.tagRule = await askTag(t, 'Tag of each SOCI-enabled image, beside its source: <tag> is the source\'s tag', c.tagRule ?? '', tagRuleProblem);
      } },
      { id: 'spanSize', label: 'Span size', describe: (c) => (c.spanSize === undefined ? `${formatBytes(DEFAULT_SPAN_SIZE)} (default)` : formatBytes(c.spanSize)), change: async (c, t) => {
        c.spanSize = await askSize(t, { name: 'span size', prompt: `Uncompressed bytes between checkpoints: a lazy read fetches whole spans. Empty: ${formatBytes(DEFAULT_SPAN_SIZE)}.` }, c.spanSize);
      } },
      { id: 'minLayerSize', label: 'Minimum layer size', describe: (c) => (c.minLayerSize === undefined ? `${formatBytes(DEFAULT_MIN_LAYER_SIZE)} (default)` : formatBytes(c.minLayerSize)), change: async (c, t) => {
        c.minLayerSize = await askSize(t, { name: 'minimum layer size', prompt: `Smaller layers get no zTOC and are pulled whole. Empty: ${formatBytes(DEFAULT_MIN_LAYER_SIZE)}.`, zero: true }, c.minLayerSize);
      } },
      { id: 'platforms', label: 'Platforms', describe: (c) => (c.allPlatforms ? 'every platform of an index' : 'this machine\'s, from an index (default)'), change: async (c) => {
        c.allPlatforms = !c.allPlatforms;
      } },
    ],
  }, { destination: { ...source, tag: proposedTag(source, 'soci'), digest: undefined }, ...remembered, ...(many ? { tagRule: '<tag>-soci' } : {}) });
  if (!done) return undefined;
  await memory.remember<Remembered>('index', { version: done.version, spanSize: done.spanSize, minLayerSize: done.minLayerSize, allPlatforms: done.allPlatforms });
  return done.version === 'v1' ? { ...done, destination: source } : done;
}
