import { shellQuote } from './quote.js'

/**
 * The instance-side command that says which file system holds a folder and what is free on it: POSIX
 * `df -P` (one header line, then `filesystem blocks used available capacity mountpoint` in 1024-byte
 * blocks), asked about the folder or, when it does not exist yet, its nearest existing ancestor.
 */
export function freeSpaceScript(dir: string): string {
  return [
    // The name is data: single quotes keep a `$(...)` in it from running, which is what SC2016 asks about.
    '# shellcheck disable=SC2016',
    `d=${shellQuote(dir)}`,
    'while [ ! -d "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname -- "$d"); done',
    'df -P -- "$d"'
  ].join('\n')
}

export interface FreeSpace {
  filesystem: string
  mountpoint: string
  totalBytes: number
  availableBytes: number
}

/** Read `df -P` output; undefined when it is not what POSIX df prints. */
export function parseFreeSpace(output: string): FreeSpace | undefined {
  const lines = output.trim().split('\n')
  if (lines.length < 2 || !/^Filesystem\s/.test(lines[0])) return undefined
  // A long device name may push the figures onto a line of their own.
  const fields = lines.slice(1).join(' ').trim().split(/\s+/)
  if (fields.length < 6) return undefined
  const [filesystem, blocks, , available] = fields
  if (!/^\d+$/.test(blocks) || !/^\d+$/.test(available)) return undefined
  return {
    filesystem,
    mountpoint: fields.slice(5).join(' '),
    totalBytes: Number(blocks) * 1024,
    availableBytes: Number(available) * 1024
  }
}
