import { ssmStreamStats } from '../../src/tunnel/ssm/tunnel.js'
import { startSshd, Sshd } from '../../sim/sshd.js'
import { startSsmSim, SsmSim, SsmSimFaults } from '../../sim/ssm/index.js'
import {
  allTerminated,
  capturingLogger,
  endSsh,
  exec,
  expectTokensKeptSecret,
  makeFiles,
  sshOver,
  tunnelFor,
  uploadAndVerify,
  useSimEnv
} from './helpers.js'

let sshd: Sshd
let sim: SsmSim
let files: Awaited<ReturnType<typeof makeFiles>>

beforeAll(async () => {
  sshd = await startSshd()
  sim = await startSsmSim({ sshHost: sshd.host, sshPort: sshd.port })
  useSimEnv(sim)
  files = await makeFiles([1024 * 1024, 512 * 1024, 123457])
})

afterAll(async () => {
  await sim?.close()
  await sshd?.stop()
  await files?.cleanup()
})

/** One session under the given faults: SSH exec + verified SFTP upload, then a clean end. */
async function transferUnder(faults: SsmSimFaults, sub: string) {
  sim.setFaults(faults)
  const before = sim.sessions.started.length
  const logger = capturingLogger()
  const tunnel = tunnelFor(sim, logger)
  try {
    const sock = await tunnel.open()
    const stats = ssmStreamStats(sock)!
    const client = await sshOver(sock, sshd)
    expect((await exec(client, 'echo ok')).stdout).toBe('ok\n')
    await uploadAndVerify(client, sshd, files.files, sub)
    await endSsh(client, sock)
    const record = sim.sessionRecords()[before]
    return { stats, record, logger }
  } finally {
    await tunnel.close()
    sim.setFaults({})
  }
}

afterEach(async () => {
  expect(await allTerminated(sim)).toEqual([])
  expect(sim.violations()).toEqual([])
})

describe('ssm tunnel under faults (nothing lost, every file verified)', () => {
  it('5% drop + 5% duplicate + 5% reorder in both directions', async () => {
    const lossy = { drop: 0.05, duplicate: 0.05, reorder: 0.05 }
    const { stats, record } = await transferUnder(
      { seed: 7, clientToAgent: lossy, agentToClient: lossy },
      'lossy'
    )
    expect(stats.retransmits).toBeGreaterThan(0)
    expect(stats.duplicatesReceived + stats.outOfOrderReceived).toBeGreaterThan(0)
    expect(record.clientDuplicates).toBeGreaterThan(0)
    expect(record.agentRetransmits).toBeGreaterThan(0)
  })

  it('the WebSocket is killed (1006) mid-upload: ResumeSession, same sequence numbers, nothing lost', async () => {
    const { stats, record, logger } = await transferUnder(
      { killAfterBytes: { bytes: 600 * 1024, code: 1006 } },
      'killed'
    )
    expect(stats.reconnects).toBe(1)
    expect(record.connects).toBe(2)
    expect(record.issuedTokens).toHaveLength(2)
    expect(new Set(record.clientIds).size).toBe(1)
    expect(sim.sessions.resumed).toContain(record.sessionId)
    expectTokensKeptSecret([record], logger)
  })

  it('the service closes the WebSocket with 1000 "Bye" mid-upload: resumed as well', async () => {
    const { stats, record } = await transferUnder(
      { killAfterBytes: { bytes: 900 * 1024, code: 1000 }, rttMs: 10 },
      'bye'
    )
    expect(stats.reconnects).toBe(1)
    expect(record.connects).toBe(2)
  })

  it('a delayed target dial: early data stays unacknowledged and is retransmitted, not lost', async () => {
    const { stats, record } = await transferUnder({ dialDelayMs: 1500 }, 'slow-dial')
    expect(record.notReady).toBeGreaterThan(0)
    expect(record.discardedBeforeHandshake).toBe(0)
    expect(stats.retransmits).toBeGreaterThan(0)
  })

  it('withheld acknowledgements are repaired by retransmission', async () => {
    const { stats, record } = await transferUnder({ withholdAcks: [1, 2, 50, 51, 52, 400] }, 'withheld')
    expect(record.withheldAcks).toBe(6)
    expect(stats.retransmits).toBeGreaterThanOrEqual(6)
  })

  it('pause_publication then start_publication mid-upload', async () => {
    const { stats } = await transferUnder(
      { pauseAfterBytes: { bytes: 400 * 1024, ms: 700 }, rttMs: 20 },
      'paused'
    )
    expect(stats.pauses).toBe(1)
  })
})
