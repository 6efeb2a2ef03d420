// What a COPY brings in, and what a RUN may be moved across: shared by the ordering rules.
import type { DockerInstruction } from '../model.js';

/** A COPY/ADD from the build context (not from another stage, not a URL). */
export function fromContext(ins: DockerInstruction): boolean {
  return (ins.keyword === 'COPY' || ins.keyword === 'ADD') && !ins.flags.from && ins.words.length >= 2 && !ins.words.slice(0, -1).some((s) => /^https?:\/\//.test(s));
}

/** The source paths of a COPY/ADD, without a leading `./`. */
export function sources(ins: DockerInstruction): string[] {
  return ins.words.slice(0, -1).map((s) => s.replace(/^\.\//, ''));
}

/** Instructions a RUN can move above without changing what it sees. */
export function movableAcross(ins: DockerInstruction, command: string): boolean {
  if (['LABEL', 'EXPOSE', 'MAINTAINER', 'STOPSIGNAL', 'HEALTHCHECK', 'CMD', 'ENTRYPOINT'].includes(ins.keyword)) return true;
  if (ins.keyword === 'ENV' || ins.keyword === 'ARG') {
    const names = ins.words.map((w) => w.split('=')[0]).filter(Boolean);
    return !names.some((n) => command.includes(`$${n}`) || command.includes(`\${${n}`));
  }
  return false;
}
