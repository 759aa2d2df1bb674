import { createHash } from 'node:crypto'
import type { SFTPWrapper } from 'ssh2'
import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import { DEFAULT_KNOBS } from '../../sim/eice/endpoint-server.js'
import type { EiceSim } from '../../sim/eice/eice-sim.js'
export { exec, sftpOf, sshOver } from '../../sim/ssh-client.js'
import type { AwsContext } from '../../src/aws/credentials.js'
import { describeTargets } from '../../src/aws/instances.js'
import { parseTarget } from '../../src/config.js'
import type { Logger } from '../../src/log.js'
import { createEiceTunnel, type EiceTunnelOptions } from '../../src/tunnel/eice/tunnel.js'

export { capturingLogger } from '../helpers/logger.js'

export function simContext(
  sim: EiceSim,
  secretAccessKey: string = DUMMY_LONG_TERM_KEY.secretAccessKey
): AwsContext {
  return {
    region: sim.region,
    credentials: async () => ({ accessKeyId: DUMMY_LONG_TERM_KEY.accessKeyId, secretAccessKey })
  }
}

/** Put every knob back to its default (optional ones unset). */
export function resetKnobs(sim: EiceSim): void {
  Object.assign(sim.knobs, DEFAULT_KNOBS, {
    rejectUpgrade: undefined,
    maxTunnelDurationCap: undefined,
    cutAfterBytes: undefined,
    onCut: undefined,
    throttleBytesPerSecond: undefined
  })
}

export async function eiceTunnel(
  sim: EiceSim,
  logger: Logger,
  over: Partial<EiceTunnelOptions> & { instanceId?: string; aws?: AwsContext } = {}
) {
  const aws = over.aws ?? simContext(sim)
  const [instance] = await describeTargets([parseTarget(over.instanceId ?? sim.instanceId)], aws)
  return createEiceTunnel({
    instance,
    port: 22,
    aws,
    logger,
    maxTunnelsPerEndpoint: 5,
    tlsCaForTests: sim.ca,
    ...over
  })
}

export function fastPut(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.fastPut(local, remote, err => (err ? reject(err) : resolve())))
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** The settled error of a promise that must fail. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(err instanceof Error)) throw new Error('expected a failure, got success')
  return err
}
