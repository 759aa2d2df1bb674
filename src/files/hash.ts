import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Worker } from 'node:worker_threads'

/**
 * sha256 of local files on a worker thread, so hashing (one of the largest CPU costs of an upload)
 * runs on another core while the main thread drives SSH. The worker is inline CommonJS code, so it
 * needs no separate file in the bundle. Falls back to the main thread if a worker cannot start.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { createReadStream } = require('node:fs')
parentPort.on('message', ({ id, path }) => {
  const hash = createHash('sha256')
  createReadStream(path, { highWaterMark: 1 << 20 })
    .on('data', chunk => hash.update(chunk))
    .on('error', err => parentPort.postMessage({ id, error: err.message }))
    .on('end', () => parentPort.postMessage({ id, digest: hash.digest('hex') }))
})
`

type Reply = { id: number; digest?: string; error?: string }

let worker: Worker | undefined
let workerFailed = false
let nextId = 0
const waiting = new Map<number, { resolve: (d: string) => void; reject: (e: Error) => void }>()

function getWorker(): Worker | undefined {
  if (worker || workerFailed) return worker
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref() // never keeps the process alive
    worker.on('message', (r: Reply) => {
      const w = waiting.get(r.id)
      waiting.delete(r.id)
      if (r.digest) w?.resolve(r.digest)
      else w?.reject(new Error(r.error ?? 'hashing failed'))
    })
    worker.on('error', err => {
      workerFailed = true
      worker = undefined
      for (const w of waiting.values()) w.reject(err)
      waiting.clear()
    })
  } catch {
    workerFailed = true
  }
  return worker
}

function hashHere(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', chunk => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')))
  })
}

/** Hex sha256 of a local file. */
export function sha256File(path: string): Promise<string> {
  const w = getWorker()
  if (!w) return hashHere(path)
  const id = nextId++
  return new Promise<string>((resolve, reject) => {
    waiting.set(id, { resolve, reject })
    w.ref()
    w.postMessage({ id, path })
  }).finally(() => {
    if (waiting.size === 0) worker?.unref()
  })
}
