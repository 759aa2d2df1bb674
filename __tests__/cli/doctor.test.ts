import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { startCredentialSims } from '../../sim/credential-sims.js'
import type { SimEndpoint, SimSecurityGroup } from '../../sim/ec2/inventory.js'
import { startEiceSim, type EiceSim } from '../../sim/eice/eice-sim.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startSsmSim, type SsmSim } from '../../sim/ssm/index.js'
import type { Check } from '../../src/cli/doctor-checks.js'
import { childEnv, ensureBundles, runCli } from './helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** `ec2-push doctor` (the bundled CLI) against simulator states, with SigV4-checked calls. */

let aws: AwsSimServer
let sshd: Sshd
let eice: EiceSim
let ssm: SsmSim
let env: Record<string, string>
let saved: { endpoints: SimEndpoint[]; groups: SimSecurityGroup[] }

useTestBundles()

beforeAll(async () => {
  await ensureBundles()
  aws = await startAwsSimServer()
  startCredentialSims(aws)
  sshd = await startSshd()
  eice = await startEiceSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws })
  ssm = await startSsmSim({
    sshHost: sshd.host,
    sshPort: sshd.port,
    awsServer: aws,
    instanceId: eice.instanceId
  })
  env = childEnv({ ...ssm.env, ...eice.env, AWS_ENDPOINT_URL_STS: aws.url })
  saved = structuredClone({
    endpoints: eice.inventory.endpoints,
    groups: eice.inventory.securityGroups ?? []
  })
}, 300_000)

afterAll(async () => {
  await ssm?.close()
  await eice?.stop()
  await sshd?.stop()
  await aws?.close()
})

afterEach(() => {
  eice.inventory.endpoints.splice(0, Infinity, ...structuredClone(saved.endpoints))
  eice.inventory.securityGroups = structuredClone(saved.groups)
  eice.denyEc2Actions.clear()
  ssm.setInstanceState(eice.instanceId, 'online')
  expect(ssm.sessions.unterminated()).toEqual([])
})

interface Report {
  checks: Check[]
  auto: { mode?: string; reason?: string; error?: string }
  paths: { ssm: boolean; eice: boolean }
  works: boolean
}

async function doctor(target: string, ...flags: string[]): Promise<{ code: number | null; report: Report }> {
  const r = await runCli(['doctor', target, '--json', ...flags], { env })
  expect(r.stderr).toBe('')
  return { code: r.code, report: JSON.parse(r.stdout.toString()) }
}

const row = (report: Report, area: string, check: string | RegExp) => {
  const found = report.checks.find(
    c => c.area === area && (typeof check === 'string' ? c.check === check : check.test(c.check))
  )
  if (!found) throw new Error(`no ${area} / ${check} row in ${JSON.stringify(report.checks, null, 1)}`)
  return found
}

test('managed, Online and an endpoint whose group may reach port 22: a table of ok rows, auto picks eice, exit 0', async () => {
  const r = await runCli(['doctor', eice.instanceId], { env })
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  const text = r.stdout.toString()
  expect(text).toContain(`ec2-push doctor ${eice.instanceId} (us-east-1)`)
  expect(text).toMatch(/credentials\s+identity\s+ok\s+arn:aws:iam::123456789012:/)
  expect(text).toMatch(/permissions\s+ec2:DescribeInstances\s+ok\s+allowed \(dry run\)/)
  expect(text).toMatch(/instance\s+state\s+ok\s+i-0e1ce000000000001 \(web-1\) is running/)
  expect(text).toMatch(/ssm\s+agent ping status\s+ok\s+Online/)
  expect(text).toMatch(new RegExp(`eice\\s+endpoint\\s+ok\\s+${eice.endpointId} in the instance's subnet`))
  expect(text).toMatch(/eice\s+port 22 into the instance\s+ok\s+.*allow tcp 22 from sg-0e1ce0000000000e1/)
  expect(text).toMatch(/auto\s+mode auto\s+ok\s+would choose eice/)
  expect(text).not.toMatch(/FAIL/)

  const { report } = await doctor(eice.instanceId)
  expect(report.paths).toEqual({ ssm: true, eice: true })
  expect(report.auto.mode).toBe('eice')
  expect(row(report, 'ssm', 'agent version').detail).toMatch(/^\d+\.\d+\.\d+/)
  expect(row(report, 'eice', 'endpoint state').detail).toBe('create-complete')
  expect(row(report, 'eice', 'IP address type').detail).toBe('ipv4; connects to 10.0.1.10')
  expect(row(report, 'eice', 'port 22 out of the endpoint').status).toBe('ok')
  for (const action of [
    'ec2:DescribeInstances',
    'ec2:DescribeInstanceConnectEndpoints',
    'ec2:DescribeSecurityGroups'
  ])
    expect(row(report, 'permissions', action).status).toBe('ok')
})

test('unmanaged but with an endpoint: the ssm rows fail, eice works, exit 0', async () => {
  ssm.setInstanceState(eice.instanceId, 'unmanaged')
  const { code, report } = await doctor(eice.instanceId)
  expect(code).toBe(0)
  expect(row(report, 'ssm', 'managed node')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^no: run the SSM Agent/)
  })
  expect(report.paths).toEqual({ ssm: false, eice: true })
  expect(report.auto.mode).toBe('eice')
})

test('no endpoint in the VPC and not managed: nothing works, exit 1 with the checklist', async () => {
  const id = eice.instanceIds.noEndpoint
  ssm.setInstanceState(id, 'unmanaged')
  const { code, report } = await doctor(id)
  expect(code).toBe(1)
  expect(row(report, 'eice', 'endpoint')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^No usable EC2 Instance Connect Endpoint in vpc-0e1ce000000000002/)
  })
  expect(report.auto.error).toMatch(/mode: auto found no path/)
  expect(report.works).toBe(false)
})

test('no endpoint but managed and Online: auto picks ssm, exit 0', async () => {
  const id = eice.instanceIds.noEndpoint
  ssm.setInstanceState(id, 'online')
  const { code, report } = await doctor(id)
  expect(code).toBe(0)
  expect(report.paths).toEqual({ ssm: true, eice: false })
  expect(report.auto).toMatchObject({ mode: 'ssm', reason: `${id} is managed by Systems Manager and Online` })
})

test('an offline agent is named, with its ping status', async () => {
  ssm.setInstanceState(eice.instanceId, 'offline')
  const { report } = await doctor(eice.instanceId)
  expect(row(report, 'ssm', 'agent ping status')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^ConnectionLost/)
  })
})

test.each([
  [
    'the instance admits 22 only from another group',
    'instances',
    'ingress',
    'port 22 into the instance',
    /no inbound rule of sg-0e1ce000000000001 allows tcp 22 from the endpoint's group sg-0e1ce0000000000e1/
  ],
  [
    'the endpoint may not send to the instance',
    'eice',
    'egress',
    'port 22 out of the endpoint',
    /no outbound rule of the endpoint's group sg-0e1ce0000000000e1 allows tcp 22/
  ]
] as const)(
  'wrong security group (%s): eice fails; exit 1 when ssm is not there either',
  async (_what, group, dir, check, message) => {
    const sg = eice.inventory.securityGroups!.find(g => g.groupName === group)!
    sg[dir] = [{ protocol: 'tcp', fromPort: 22, toPort: 22, groupIds: ['sg-0e1ce00000000bad1'] }]
    ssm.setInstanceState(eice.instanceId, 'unmanaged')
    const { code, report } = await doctor(eice.instanceId)
    expect(row(report, 'eice', check)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(message)
    })
    expect(report.paths.eice).toBe(false)
    // auto still picks eice (the endpoint exists), and the doctor says that would not connect.
    expect(row(report, 'auto', 'mode auto')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /would choose eice .* but the checks above say eice cannot connect: fix them/
      )
    })
    expect(code).toBe(1)
  }
)

test('a CIDR rule is a warning, not a verdict; a wrong group with ssm Online still exits 0 and says to set mode ssm', async () => {
  const instances = eice.inventory.securityGroups!.find(g => g.groupName === 'instances')!
  instances.ingress = [{ protocol: 'tcp', fromPort: 0, toPort: 1024, cidrs: ['10.0.0.0/16'] }]
  let { report } = await doctor(eice.instanceId)
  expect(row(report, 'eice', 'port 22 into the instance')).toMatchObject({
    status: 'warn',
    detail: expect.stringMatching(/tcp 0-1024 from 10\.0\.0\.0\/16 \(make sure/)
  })
  expect(report.paths.eice).toBe(true)

  instances.ingress = []
  const out = await doctor(eice.instanceId)
  report = out.report
  expect(out.code).toBe(0)
  expect(row(report, 'auto', 'mode auto').detail).toMatch(/set mode ssm, or fix them/)
})

test('an endpoint still being created is named with its state', async () => {
  eice.inventory.endpoints[0].state = 'create-in-progress'
  ssm.setInstanceState(eice.instanceId, 'unmanaged')
  const { code, report } = await doctor(eice.instanceId)
  expect(code).toBe(1)
  expect(row(report, 'eice', 'endpoint').detail).toBe(
    `${eice.endpointId} in vpc-0e1ce000000000001 is create-in-progress, which carries no tunnels (needs create-complete)`
  )
})

test('permissions: a denied call shows in the dry runs and in the check it blocks', async () => {
  eice.denyEc2Actions.add('DescribeInstanceConnectEndpoints')
  eice.denyEc2Actions.add('DescribeSecurityGroups')
  const { code, report } = await doctor(eice.instanceId)
  expect(row(report, 'permissions', 'ec2:DescribeInstanceConnectEndpoints')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/^denied \(dry run\)/)
  })
  expect(row(report, 'permissions', 'ec2:DescribeSecurityGroups').status).toBe('fail')
  expect(row(report, 'permissions', 'ec2:DescribeInstances').status).toBe('ok')
  expect(row(report, 'eice', 'endpoint').detail).toMatch(/may not call ec2:DescribeInstanceConnectEndpoints/)
  // ssm is Online, so auto still has a path.
  expect(report.auto.mode).toBe('ssm')
  expect(code).toBe(0)
})

test('a stopped instance fails its state row and exits 1', async () => {
  const { code, report } = await doctor(eice.instanceIds.stopped)
  expect(row(report, 'instance', 'state')).toMatchObject({
    status: 'fail',
    detail: expect.stringMatching(/is stopped/)
  })
  expect(code).toBe(1)
})

test('--connect opens each usable path, reads the sshd banner, and ends the session', async () => {
  const started = ssm.sessions.started.length
  const { code, report } = await doctor(eice.instanceId, '--connect')
  expect(code).toBe(0)
  expect(row(report, 'connect', 'via ssm')).toMatchObject({
    status: 'ok',
    detail: expect.stringMatching(/^sshd answered: SSH-2\.0-OpenSSH/)
  })
  expect(row(report, 'connect', 'via eice')).toMatchObject({
    status: 'ok',
    detail: expect.stringMatching(/^sshd answered: SSH-2\.0-OpenSSH/)
  })
  expect(ssm.sessions.started.length).toBe(started + 1)
})

test('usage mistakes are one line on stderr', async () => {
  const r = await runCli(['doctor'], { env })
  expect(r.code).toBe(1)
  expect(r.stderr).toBe(
    'ec2-push: doctor checks one target: ec2-push doctor i-0123456789abcdef0 (or tag:Name=web-1)\n'
  )
  const host = await runCli(['doctor', 'example.com'], { env })
  expect(host.stderr).toMatch(/^ec2-push: doctor checks instances .* 'example.com' is a host name/)
})
