import type { TargetResult } from '../deploy/types.js'

/** The step's outputs, added up over every target. */
export interface DeployOutputs {
  'bytes-transferred': number
  'duration-ms': number
  /** bytes-transferred over duration-ms, as a whole number of bytes a second (0 for no time). */
  'bytes-per-second': number
  'files-uploaded': number
  'files-skipped': number
  'files-total': number
  mode: string
  results: TargetResult[]
  /** post-command's output with one target ('' with several: see each result's commandOutput). */
  'command-output': string
}

export function summarise(
  results: TargetResult[],
  durationMs: number,
  filesTotal: number,
  mode: string
): DeployOutputs {
  const bytes = results.reduce((n, r) => n + r.bytesTransferred, 0)
  return {
    'bytes-transferred': bytes,
    'duration-ms': durationMs,
    'bytes-per-second': bytesPerSecond(bytes, durationMs),
    'files-uploaded': results.reduce((n, r) => n + r.filesUploaded, 0),
    'files-skipped': results.reduce((n, r) => n + r.filesSkipped, 0),
    'files-total': filesTotal,
    mode,
    results,
    'command-output': results.length === 1 ? (results[0].commandOutput ?? '') : ''
  }
}

export function bytesPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? Math.round((bytes * 1000) / ms) : 0
}

/** The step's figures in one line, as the job summary and the CLI's last line say them. */
export function figuresLine(out: DeployOutputs): string {
  return `${out['files-uploaded']} files uploaded (${out['files-skipped']} unchanged), ${out['bytes-transferred']} bytes in ${(out['duration-ms'] / 1000).toFixed(1)} s: ${out['bytes-per-second']} bytes/s`
}

export function throughputMBps(bytes: number, ms: number): string {
  return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0'
}
