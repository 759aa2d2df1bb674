import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestTls {
  dir: string
  /** PEM of the throwaway CA: trust it with NODE_EXTRA_CA_CERTS=<caFile> (read at process start). */
  caFile: string
  ca: string
  key: string
  cert: string
  remove(): Promise<void>
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1, ::1 and localhost, made with the openssl
 * CLI in a fresh temp dir (P-256 keys; valid two days).
 */
export async function makeTestTls(): Promise<TestTls> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-eice-tls-'))
  const f = (n: string) => path.join(dir, n)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  try {
    await run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=ec2-push simulator CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign'
    ])
    await run('openssl', [
      'req',
      ...ec,
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
      '-subj',
      '/CN=localhost'
    ])
    await writeFile(
      f('server.ext'),
      [
        'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth'
      ].join('\n') + '\n'
    )
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('server.pem'),
      '-days',
      '2',
      '-extfile',
      f('server.ext')
    ])
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`openssl could not make the simulator's test certificates: ${(err as Error).message}`)
  }
  return {
    dir,
    caFile: f('ca.pem'),
    ca: await readFile(f('ca.pem'), 'utf8'),
    key: await readFile(f('server.key'), 'utf8'),
    cert: await readFile(f('server.pem'), 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true })
  }
}
