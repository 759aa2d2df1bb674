import { createHash } from 'node:crypto'
import net from 'node:net'
import { EC2InstanceConnectClient } from '@aws-sdk/client-ec2-instance-connect'
import ssh2 from 'ssh2'
import type { Sshd } from '../../sim/sshd.js'

export const REGION = 'us-east-1'
export const CREDS = { accessKeyId: 'AKIDEXAMPLESIM00001', secretAccessKey: 'sim-secret-for-eic-tests' }

/** The real SDK client pointed at the simulator (no SDK retries: our own retry layer is under test). */
export function eicClient(endpoint: string, creds = CREDS): EC2InstanceConnectClient {
  return new EC2InstanceConnectClient({ region: REGION, endpoint, credentials: creds, maxAttempts: 1 })
}

function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '')
}

/** Log in to the real sshd with ssh2 over a plain TCP socket and run `command`; resolves its stdout. */
export function sshExec(
  sshd: Sshd,
  privateKey: string | Buffer,
  command = 'echo ok',
  user = sshd.user
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(sshd.port, sshd.host)
    const client = new ssh2.Client()
    client.on('error', err => {
      sock.destroy()
      reject(err)
    })
    client.on('ready', () => {
      client.exec(command, (err, stream) => {
        if (err) {
          client.end()
          return reject(err)
        }
        let out = ''
        stream.on('data', (d: Buffer) => (out += d.toString()))
        stream.stderr.resume()
        stream.on('close', () => {
          client.end()
          resolve(out)
        })
      })
    })
    client.connect({
      sock,
      username: user,
      privateKey,
      hostVerifier: (key: Buffer) => fingerprint(key) === sshd.hostKeyFingerprint,
      readyTimeout: 20000
    })
  })
}

/** Resolves the error ssh2 raised when the login was refused (rejects if it logged in). */
export async function expectLoginRefused(
  sshd: Sshd,
  privateKey: string | Buffer,
  user = sshd.user
): Promise<void> {
  let out: string | undefined
  try {
    out = await sshExec(sshd, privateKey, 'echo ok', user)
  } catch (err) {
    expect((err as { level?: string }).level).toBe('client-authentication')
    return
  }
  throw new Error(`expected the login to be refused, but it ran and printed ${JSON.stringify(out)}`)
}

/** Wait (bounded) until the wall clock is past an epoch-seconds expiry, as `date +%s` sees it. */
export async function waitPast(epochSeconds: number): Promise<void> {
  const until = epochSeconds * 1000 + 250
  for (let i = 0; i < 200 && Date.now() < until; i++) await new Promise(r => setTimeout(r, 100))
}
