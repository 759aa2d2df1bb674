import type { TargetResult } from '../deploy.js'

/** The step's outputs, added up over every target. */
export interface DeployOutputs {
  'bytes-transferred': number
  'duration-ms': number
  'files-uploaded': number
  'files-skipped': number
  'files-total': number
  mode: string
  results: TargetResult[]
}

export function summarise(
  results: TargetResult[],
  durationMs: number,
  filesTotal: number,
  mode: string
): DeployOutputs {
  return {
    'bytes-transferred': results.reduce((n, r) => n + r.bytesTransferred, 0),
    'duration-ms': durationMs,
    'files-uploaded': results.reduce((n, r) => n + r.filesUploaded, 0),
    'files-skipped': results.reduce((n, r) => n + r.filesSkipped, 0),
    'files-total': filesTotal,
    mode,
    results
  }
}

export function throughputMBps(bytes: number, ms: number): string {
  return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0'
}
