// Lazy-loading rules: what decides how well an image starts before it is downloaded.
import { posix } from 'node:path';
import { firstLineRange, type Finding, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction } from '../model.js';
import { fromContext, sources } from './copies.js';

const ASSET = /(^|\/)(models?|weights|checkpoints|datasets?)(\/|$)|\.(bin|onnx|pt|pth|safetensors|gguf|ckpt|h5|tflite|pb|npz)$/i;

/** large-assets-with-code: cold data and the program in one layer. */
export const assetsWithCode: Rule = {
  id: 'large-assets-with-code',
  group: 'lazy',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    if (!final) return [];
    return final.instructions.filter(fromContext).flatMap((ins) => {
      const src = sources(ins);
      const assets = src.filter((s) => ASSET.test(s));
      if (!assets.length || assets.length === src.length) return [];
      return [{
        ruleId: assetsWithCode.id, group: 'lazy', severity: 'hint', range: firstLineRange(model, ins),
        message: `Large assets (${assets.join(', ')}) share a layer with application files`,
        rationale: 'Copy models and data in their own layer, before the application: a lazy pull then fetches the program without the assets, and SOCI (4 MiB spans) or eStargz (per-file chunks) read the assets only when opened. Only ~6% of image data is read at start-up (Slacker, FAST \'16).',
        source: 'specs: soci-snapshotter span model; Harter et al., FAST \'16',
      }];
    });
  },
};

/** The files the entrypoint starts with: what eStargz should put first and prefetch. */
export function entrypointFiles(instructions: DockerInstruction[]): string[] {
  let workdir = '/';
  let entry: string[] = [];
  let cmd: string[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'WORKDIR' && ins.words[0]) workdir = posix.resolve(workdir, ins.words[0]);
    if (ins.keyword === 'ENTRYPOINT') entry = ins.jsonForm ? ins.words : ['/bin/sh', '-c', ins.args];
    if (ins.keyword === 'CMD') cmd = ins.jsonForm ? ins.words : ['/bin/sh', '-c', ins.args];
  }
  const argv = [...entry, ...cmd];
  return [...new Set(argv
    .filter((a) => !a.startsWith('-') && !a.includes('$') && (a.startsWith('/') || /\.(js|mjs|cjs|py|sh|jar|rb|php)$/.test(a)))
    .map((a) => posix.resolve(workdir, a)))];
}

/** estargz-prioritize: an ENTRYPOINT/CMD whose files can be prioritized in eStargz layers. */
export const prioritizeEntrypoint: Rule = {
  id: 'estargz-prioritize',
  group: 'lazy',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    const start = final?.instructions.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD').at(-1);
    if (!final || !start) return [];
    const files = entrypointFiles(final.instructions);
    if (!files.length) return [];
    return [{
      ruleId: prioritizeEntrypoint.id, group: 'lazy', severity: 'hint', range: firstLineRange(model, start),
      message: `eStargz can put the files this starts with first and prefetch them: ${files.join(', ')}`,
      rationale: 'Prioritized files sit at the head of each eStargz layer, before the landmark, and the snapshotter fetches that range in one request before the container starts, instead of one on-demand fetch per file. Use the list with `convert --prioritize-file`; `ctr-remote image optimize` finds more by running the workload.',
      source: 'stargz-snapshotter docs/estargz.md, Prioritized Files and Landmark Files',
      files,
    }];
  },
};
