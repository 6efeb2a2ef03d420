// The program the kernel loads to run an executable: a script's `#!` interpreter, a dynamically
// linked ELF's loader (PT_INTERP). The kernel opens those itself during execve, so no traced
// syscall names them; a recorder that sees only syscalls adds them from the file.
import { open } from 'node:fs/promises';

/** What the kernel reads of a script's first line (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const PT_INTERP = 3;
/** A loader path longer than this is no path (the kernel's limit is PATH_MAX). */
const MAX_INTERP = 4096;
/** Program headers read at most: a real executable has a dozen. */
const MAX_PHNUM = 512;

export interface Interpreter {
  kind: 'script' | 'elf';
  /** As written in the file: absolute, or relative to the process's folder. */
  path: string;
}

/** The interpreter `file` names, or undefined (a static binary, a file that is neither). Never throws for content. */
export async function interpreterOf(file: string): Promise<Interpreter | undefined> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(SHEBANG_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const start = head.subarray(0, bytesRead);
    if (start[0] === 0x23 && start[1] === 0x21) return shebang(start);
    if (bytesRead < 64 || !start.subarray(0, 4).equals(ELF_MAGIC)) return undefined;
    return await elfInterpreter(start, (length, position) => readAt(handle, length, position));
  } finally {
    await handle.close();
  }
}

function shebang(head: Buffer): Interpreter | undefined {
  const end = head.indexOf(0x0a);
  const line = head.subarray(2, end < 0 ? head.length : end).toString('latin1');
  const path = line.trim().split(/[ \t]/)[0];
  return path ? { kind: 'script', path } : undefined;
}

async function readAt(handle: Awaited<ReturnType<typeof open>>, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Walks the program headers (32 or 64 bit, either byte order) for PT_INTERP. */
async function elfInterpreter(header: Buffer, read: (length: number, position: number) => Promise<Buffer>): Promise<Interpreter | undefined> {
  const wide = header[4] === 2;
  const little = header[5] === 1;
  const u16 = (b: Buffer, at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number): number => (wide ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const phoff = word(header, wide ? 32 : 28);
  const phentsize = u16(header, wide ? 54 : 42);
  const phnum = u16(header, wide ? 56 : 44);
  if (phnum > MAX_PHNUM || phentsize < (wide ? 56 : 32)) return undefined;
  const table = await read(phnum * phentsize, phoff);
  for (let i = 0; (i + 1) * phentsize <= table.length; i++) {
    const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (u32(ph, 0) !== PT_INTERP) continue;
    const offset = word(ph, wide ? 8 : 4);
    const size = word(ph, wide ? 32 : 16);
    if (size < 2 || size > MAX_INTERP) return undefined;
    const raw = await read(size, offset);
    const nul = raw.indexOf(0);
    const path = raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
    return path ? { kind: 'elf', path } : undefined;
  }
  return undefined;
}
