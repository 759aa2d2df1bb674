import * as core from '@actions/core'
import type { DeployOutputs } from './results.js'
import { figuresLine, throughputMBps } from './results.js'

/** The job summary: one row per target with files, bytes, duration, throughput, connections used and verification. */
export async function writeJobSummary(out: DeployOutputs, remotePath: string, error?: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const rows = out.results.map(r => [
    r.target,
    r.mode,
    r.status === 'success' ? '✅ success' : `❌ ${r.error ?? 'failure'}`,
    `${r.filesUploaded} / ${r.filesTotal}`,
    String(r.bytesTransferred),
    `${(r.durationMs / 1000).toFixed(1)} s`,
    throughputMBps(r.bytesTransferred, r.durationMs),
    String(r.connections ?? 1),
    r.verification
  ])
  core.summary.addHeading('ec2-push', 2)
  core.summary.addRaw(
    `Uploaded to <code>${escapeHtml(remotePath)}</code> in mode <b>${escapeHtml(out.mode)}</b>.`,
    true
  )
  core.summary.addTable([
    [
      { data: 'Target', header: true },
      { data: 'Mode', header: true },
      { data: 'Status', header: true },
      { data: 'Files', header: true },
      { data: 'Bytes', header: true },
      { data: 'Duration', header: true },
      { data: 'MB/s', header: true },
      { data: 'Connections', header: true },
      { data: 'Verification', header: true }
    ],
    ...rows.map(r => r.map(escapeHtml))
  ])
  core.summary.addRaw(`<p>${escapeHtml(figuresLine(out))}</p>`, true)
  if (error) core.summary.addRaw(`<p>❌ ${escapeHtml(error)}</p>`, true)
  await core.summary.write()
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}
