// Ties the final stage's layer-creating instructions to the layers of an image built from the
// Dockerfile, so each line can say how big its layer is and whether it will be pulled lazily.
import { count } from '../format.js';
import type { ImageLaziness, LayerLaziness } from '../image/index.js';
import { DEFAULT_MIN_LAYER_SIZE } from '../soci/index.js';
import { firstLineRange, type Finding } from './findings.js';
import { createsLayer, type DockerInstruction, type DockerfileModel } from './model.js';
import { runCommand } from './shell.js';

export interface InstructionLayer {
  instruction: DockerInstruction;
  layer: LayerLaziness;
}

export interface LayerMapping {
  layers: InstructionLayer[];
  /** Why the mapping is doubtful or impossible, when it is. */
  problem?: string;
}

/** The image's last layers belong to the final stage's instructions, in order. */
export function mapLayers(model: DockerfileModel, image: ImageLaziness): LayerMapping {
  const instructions = (model.stages.at(-1)?.instructions ?? []).filter(createsLayer);
  if (instructions.length > image.layers.length) {
    return { layers: [], problem: `the image has ${count(image.layers.length, 'layer')}, fewer than the ${instructions.length} this Dockerfile's final stage creates` };
  }
  const layers = image.layers.slice(image.layers.length - instructions.length);
  const history = (image.config?.history ?? []).filter((h) => !h.empty_layer).slice(-instructions.length);
  const mapped = instructions.map((instruction, i) => ({ instruction, layer: layers[i] as LayerLaziness }));
  if (history.length === instructions.length) {
    const mismatches = mapped.filter((m, i) => !matches(m.instruction, history[i]?.created_by ?? '')).length;
    if (mismatches > instructions.length / 2) {
      return { layers: mapped, problem: `the image's history does not match this Dockerfile's final stage (${mismatches} of ${instructions.length} steps differ): was it built from it?` };
    }
  }
  return { layers: mapped };
}

function matches(ins: DockerInstruction, createdBy: string): boolean {
  const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();
  if (ins.keyword === 'RUN') return squash(createdBy).includes(squash(runCommand(ins)).slice(0, 24));
  return createdBy.includes(ins.keyword);
}

/** Neighbouring layers each under SOCI's minimum: fetched whole anyway, at a round trip each. */
export function smallLayerFindings(model: DockerfileModel, mapping: LayerMapping): Finding[] {
  const findings: Finding[] = [];
  for (let i = 1; i < mapping.layers.length; i++) {
    const a = mapping.layers[i - 1];
    const b = mapping.layers[i];
    if (!a || !b || a.layer.descriptor.size >= DEFAULT_MIN_LAYER_SIZE || b.layer.descriptor.size >= DEFAULT_MIN_LAYER_SIZE) continue;
    if (a.instruction.keyword !== b.instruction.keyword) continue;
    findings.push({
      ruleId: 'small-layers', group: 'lazy', severity: 'hint', range: firstLineRange(model, b.instruction),
      message: `This layer and the one before (line ${a.instruction.range.start.line + 1}) are both under 10 MiB: SOCI pulls them whole, each with its own round trip`,
      rationale: 'Layers under SOCI\'s 10 MiB minimum get no zTOC and are fetched eagerly, and every lazily mounted layer costs TOC and zTOC fetches. Merging small steps that change together saves both. Not merged automatically: separate steps may be separate on purpose, for caching.',
      source: 'soci-snapshotter soci/soci_index.go defaultMinLayerSize; dockerfile-and-registry spec L6',
    });
  }
  return findings;
}
