/**
 * Process-wide count of open tunnels per EICE endpoint. An endpoint serves at most 20 connections,
 * shared with every other user of it, so a deploy keeps its own number under a configured limit:
 * `acquireTunnelSlot` waits (in arrival order) until a slot is free.
 */

interface Waiter {
  limit: number
  grant: () => void
}

interface Slots {
  active: number
  waiters: Waiter[]
}

const byEndpoint = new Map<string, Slots>()

function slotsOf(endpointId: string): Slots {
  let s = byEndpoint.get(endpointId)
  if (!s) {
    s = { active: 0, waiters: [] }
    byEndpoint.set(endpointId, s)
  }
  return s
}

function pump(s: Slots) {
  while (s.waiters.length && s.active < s.waiters[0].limit) {
    s.active++
    s.waiters.shift()!.grant()
  }
}

/** Wait for a slot; resolves to its release function (idempotent). Rejects when `signal` aborts first. */
export function acquireTunnelSlot(
  endpointId: string,
  limit: number,
  signal?: AbortSignal
): Promise<() => void> {
  const s = slotsOf(endpointId)
  const max = Math.max(1, Math.floor(limit))
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled while waiting for an EICE tunnel slot'))
    let released = false
    const release = () => {
      if (released) return
      released = true
      s.active--
      pump(s)
    }
    const onAbort = () => {
      const i = s.waiters.indexOf(waiter)
      if (i >= 0) s.waiters.splice(i, 1)
      reject(new Error('cancelled while waiting for an EICE tunnel slot'))
    }
    const waiter: Waiter = {
      limit: max,
      grant: () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(release)
      }
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    s.waiters.push(waiter)
    pump(s)
  })
}

/** Tunnels currently holding a slot on this endpoint (for logs and tests). */
export function tunnelsInUse(endpointId: string): number {
  return byEndpoint.get(endpointId)?.active ?? 0
}

/** Callers waiting for a slot on this endpoint. */
export function tunnelsWaiting(endpointId: string): number {
  return byEndpoint.get(endpointId)?.waiters.length ?? 0
}
