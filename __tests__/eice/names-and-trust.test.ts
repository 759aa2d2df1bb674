import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { startEiceSim, type EiceSim } from '../../sim/eice/eice-sim.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { capturingLogger, eiceTunnel, exec, sshOver } from './helpers.js'

// The endpoint's DnsName is used as the API returns it; the simulator can advertise `localhost:PORT`.
let sshd: Sshd
let aws: AwsSimServer
let sim: EiceSim
const saved = process.env.AWS_ENDPOINT_URL_EC2

beforeAll(async () => {
  sshd = await startSshd()
  aws = await startAwsSimServer()
  sim = await startEiceSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws, hostName: 'localhost' })
  process.env.AWS_ENDPOINT_URL_EC2 = aws.url
})
afterAll(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EC2
  else process.env.AWS_ENDPOINT_URL_EC2 = saved
  await sim?.stop()
  await aws?.close()
  await sshd?.stop()
})

test('a localhost:PORT endpoint name is signed and reached as given', async () => {
  expect(sim.dnsName).toMatch(/^localhost:\d+$/)
  const tunnel = await eiceTunnel(sim, capturingLogger())
  const ssh = await sshOver(await tunnel.open(), sshd)
  try {
    expect((await exec(ssh, 'echo via-localhost')).stdout).toBe('via-localhost\n')
  } finally {
    ssh.end()
    await tunnel.close()
  }
  expect(sim.events.at(-1)).toMatchObject({ status: 101, endpointId: sim.endpointId })
})

test('a child process trusts the simulator through NODE_EXTRA_CA_CERTS alone (as the bundled action does)', async () => {
  const { execFile } = await import('node:child_process')
  const [host, port] = sim.dnsName.split(':')
  const script = `const tls = require('node:tls'); const s = tls.connect({ host: '${host}', port: ${port}, servername: '${host}' }, () => { console.log(s.authorized ? 'trusted' : 'untrusted'); s.end() }); s.on('error', e => { console.log('error ' + e.code); process.exit(0) })`
  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { env, timeout: 20_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout.trim())
      )
    )
  const base = { ...process.env }
  delete base.NODE_EXTRA_CA_CERTS
  delete base.NODE_OPTIONS
  expect(await run({ ...base, NODE_EXTRA_CA_CERTS: sim.env.NODE_EXTRA_CA_CERTS })).toBe('trusted')
  expect(await run(base)).toMatch(
    /^error (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/
  )
})
