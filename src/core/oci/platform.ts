import type { Platform } from './types.js';

/** `linux/arm64/v8`, the form people type and tools print. */
export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function parsePlatform(value: string): Platform {
  const [os, architecture, variant] = value.split('/');
  if (!os || !architecture || value.split('/').length > 3) throw new Error(`Invalid platform "${value}": expected os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** True if `have` satisfies `want`; a missing variant in `want` matches any variant. */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  return have.os === want.os && have.architecture === want.architecture && (!want.variant || have.variant === want.variant);
}

const ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The platform containers run as on this machine (always Linux: that is what images target). */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os: 'linux', architecture, variant: 'v7' } : { os: 'linux', architecture };
}
