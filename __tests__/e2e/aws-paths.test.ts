import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { runBundledAction, type ActionRun } from '../../sim/action-runner.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { startSshd } from '../../sim/sshd.js'
import { describeTree, makeArtifactTree } from '../helpers/artifacts.js'
import { makeTree } from '../release/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * The bundled action over the AWS paths (ssm, eice, auto), with one-time keys and OIDC role
 * assumption, against the simulators and the real sshd of the sandbox.
 */

let sandbox: Sandbox
let art: string
let local: Awaited<ReturnType<typeof describeTree>>
let key: string

useTestBundles()

beforeAll(async () => {
  sandbox = await startSandbox()
  art = await makeArtifactTree({ largeBytes: 6 * 1024 * 1024 })
  local = await describeTree(art)
  key = await readFile(sandbox.sshd.clientKey.privateKeyFile, 'utf8')
})
afterAll(async () => {
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

let n = 0
function remoteDir(name: string): string {
  return path.join(sandbox.sshd.remoteRoot, `${name}-${++n}`)
}

function deploy(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction(
    { files: `${art}/**`, user: sandbox.sshd.user, 'aws-region': sandbox.region, retries: '3', ...inputs },
    { env: { ...sandbox.env, ...env } }
  )
}

async function expectUploaded(run: ActionRun, remote: string, mode: string) {
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  const remoteTree = await describeTree(remote)
  expect([...remoteTree.keys()].sort()).toEqual([...local.keys()].sort())
  for (const [rel, facts] of local) expect({ rel, ...remoteTree.get(rel) }).toEqual({ rel, ...facts })
  expect(run.outputs.mode).toBe(mode)
  expect(Number(run.outputs['files-uploaded'])).toBe(local.size)
  expect(Number(run.outputs['bytes-transferred'])).toBe([...local.values()].reduce((s, f) => s + f.size, 0))
  expect(JSON.parse(run.outputs.results)[0].verification).toMatch(/hashed on the instance/)
  expect(run.summary).toContain(mode)
}

/** Everything visible in a run except the runner's own mask commands. */
function visible(run: ActionRun): string {
  const out = run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  return [out, run.stderr, JSON.stringify(run.outputs), run.summary].join('\n')
}

describe('ssm', () => {
  test('the whole tree through Session Manager with a provided key; the session is terminated', async () => {
    const remote = remoteDir('ssm')
    const before = sandbox.ssm.sessions.started.length
    const run = await deploy({
      mode: 'ssm',
      targets: sandbox.instanceId,
      'remote-path': remote,
      'ssh-private-key': key
    })
    await expectUploaded(run, remote, 'ssm')
    expect(sandbox.ssm.sessions.started.length).toBeGreaterThan(before)
    expect(sandbox.ssm.sessions.unterminated()).toEqual([])
    expect(sandbox.ssm.violations()).toEqual([])
  })

  test('the connection opens while the files are matched; when none matches, its session is still terminated', async () => {
    // Matching walks 3,000 files and keeps none: long enough for the session to start meanwhile.
    const many = await makeTree(3000, i => `${i}\n`)
    try {
      const before = sandbox.ssm.sessions.started.length
      const run = await runBundledAction(
        {
          files: `${many}/**\n!${many}/**/*.txt`,
          user: sandbox.sshd.user,
          'aws-region': sandbox.region,
          mode: 'ssm',
          targets: sandbox.instanceId,
          'remote-path': remoteDir('ssm-no-files'),
          'ssh-private-key': key
        },
        { env: sandbox.env }
      )
      expect(run.code).toBe(1)
      expect(run.errors[0]).toMatch(/^No files matched 'files'/)
      expect(sandbox.ssm.sessions.started.length).toBeGreaterThan(before)
      expect(sandbox.ssm.sessions.unterminated()).toEqual([])
    } finally {
      await rm(many, { recursive: true, force: true })
    }
  })

  test('a one-time key and an OIDC role: the assumed credentials are the ones that start the session', async () => {
    const remote = remoteDir('ssm-oidc')
    const run = await deploy({
      mode: 'ssm',
      targets: sandbox.instanceId,
      'remote-path': remote,
      'role-to-assume': sandbox.credentials.roleArn
    })
    await expectUploaded(run, remote, 'ssm')
    const signers = sandbox.credentials.signersOf('StartSession')
    expect(signers.at(-1)).toMatch(/^ASIA/)
    expect(sandbox.credentials.signersOf('SendSSHPublicKey').at(-1)).toMatch(/^ASIA/)
    expect(sandbox.ssm.sessions.unterminated()).toEqual([])
    const text = visible(run)
    for (const t of sandbox.credentials.oidc.issued) expect(text).not.toContain(t.token)
  })

  test('an offline instance fails with one line that says what to check, and the session is not left open', async () => {
    // A running EC2 instance whose agent is offline (the simulator's offline node is unknown to EC2,
    // which the line would rightly call an instance that does not exist).
    sandbox.ssm.setInstanceState(sandbox.instanceId, 'offline')
    try {
      const run = await deploy({
        mode: 'ssm',
        targets: sandbox.instanceId,
        'remote-path': remoteDir('ssm-offline'),
        'ssh-private-key': key
      })
      expect(run.code).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toMatch(/is running but not connected to Session Manager: .*SSM Agent/)
      expect(sandbox.ssm.sessions.unterminated()).toEqual([])
    } finally {
      sandbox.ssm.setInstanceState(sandbox.instanceId, 'online')
    }
  })
})

describe('eice', () => {
  test('the whole tree through the endpoint with a one-time key', async () => {
    const remote = remoteDir('eice')
    const pushes = sandbox.eic.pushes.length
    const run = await deploy({ mode: 'eice', targets: sandbox.eiceInstanceId, 'remote-path': remote })
    await expectUploaded(run, remote, 'eice')
    expect(sandbox.eic.pushes.length).toBeGreaterThan(pushes)
    expect(sandbox.eic.pushes.at(-1)!.instanceId).toBe(sandbox.eiceInstanceId)
    expect(visible(run)).not.toMatch(/X-Amz-Signature=/)
  })

  test('a tunnel cut mid-upload is reopened and a new one-time key is pushed for the new connection', async () => {
    const remote = remoteDir('eice-cut')
    sandbox.eice.knobs.cutAfterBytes = 2_000_000
    sandbox.eice.knobs.cutTimes = 1
    // Every pushed key is forgotten at the cut, so the new connection logs in only if a key is pushed for it.
    sandbox.eice.knobs.onCut = () => void sandbox.eic.expireAll()
    const pushes = sandbox.eic.pushes.length
    try {
      // One connection: it carries the whole tree, so its tunnel reaches the cut.
      const run = await deploy({
        mode: 'eice',
        targets: sandbox.eiceInstanceId,
        'remote-path': remote,
        connections: '1'
      })
      await expectUploaded(run, remote, 'eice')
      expect(JSON.parse(run.outputs.results)[0].reconnects).toBeGreaterThanOrEqual(1)
      expect(sandbox.eic.pushes.length - pushes).toBeGreaterThanOrEqual(2)
    } finally {
      sandbox.eice.knobs.cutTimes = 0
      sandbox.eice.knobs.onCut = undefined
    }
  })

  test('an endpoint that refuses the tunnel gives one line naming the missing permission; nothing is written', async () => {
    const remote = remoteDir('eice-denied')
    sandbox.eice.knobs.rejectUpgrade = {
      status: 403,
      errorCode: 'AccessDeniedException',
      message: 'User is not authorized to perform: ec2-instance-connect:OpenTunnel'
    }
    try {
      const run = await deploy({ mode: 'eice', targets: sandbox.eiceInstanceId, 'remote-path': remote })
      expect(run.code).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain('ec2-instance-connect:OpenTunnel')
      await expect(readdir(remote)).rejects.toThrow(/ENOENT/)
    } finally {
      sandbox.eice.knobs.rejectUpgrade = undefined
    }
  })
})

describe('nlb with a one-time key', () => {
  test('instance-id@host:port names the instance behind the load balancer, so a key is pushed for it', async () => {
    const remote = remoteDir('nlb-one-time')
    const pushes = sandbox.eic.pushes.length
    const run = await deploy({
      mode: 'nlb',
      targets: `${sandbox.eiceInstanceId}@${sandbox.sshd.host}:${sandbox.sshd.port}`,
      'remote-path': remote,
      'host-key-fingerprint': sandbox.sshd.hostKeyFingerprint
    })
    await expectUploaded(run, remote, 'nlb')
    expect(sandbox.eic.pushes.length).toBeGreaterThan(pushes)
    expect(sandbox.eic.pushes.at(-1)!.instanceId).toBe(sandbox.eiceInstanceId)
  })

  test('an instance that does not honour the pushed key gets a line naming what it needs', async () => {
    // A plain sshd: no AuthorizedKeysCommand asks EC2 Instance Connect for pushed keys.
    const plain = await startSshd()
    try {
      const run = await deploy({
        mode: 'nlb',
        targets: `${sandbox.eiceInstanceId}@${plain.host}:${plain.port}`,
        'remote-path': path.join(plain.remoteRoot, 'refused'),
        'host-key-fingerprint': plain.hostKeyFingerprint,
        retries: '0'
      })
      expect(run.code).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toMatch(
        new RegExp(
          `refused the one-time key pushed for user "${sandbox.sshd.user}": it needs the ec2-instance-connect package`
        )
      )
      expect(run.errors[0]).toContain(sandbox.eiceInstanceId)
    } finally {
      await plain.stop()
    }
  })

  test('a bare host without a key says how to name the instance or give a key', async () => {
    const run = await deploy({
      mode: 'nlb',
      targets: `${sandbox.sshd.host}:${sandbox.sshd.port}`,
      'remote-path': remoteDir('nlb-no-key'),
      'host-key-fingerprint': sandbox.sshd.hostKeyFingerprint
    })
    expect(run.code).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/needs 'ssh-private-key', or the instance behind it named as 'i-\.\.\.@/)
  })
})

describe('auto', () => {
  test('picks eice where the VPC has an endpoint, ssm where the instance is managed, nlb for a host', async () => {
    const eice = await deploy({
      mode: 'auto',
      targets: sandbox.eiceInstanceId,
      'remote-path': remoteDir('auto-eice')
    })
    expect(eice.errors).toEqual([])
    expect(eice.outputs.mode).toBe('eice')
    const ssm = await deploy({
      mode: 'auto',
      targets: sandbox.instanceId,
      'remote-path': remoteDir('auto-ssm')
    })
    expect(ssm.errors).toEqual([])
    expect(ssm.outputs.mode).toBe('ssm')
    expect(ssm.summary).toContain('ssm')
    const nlb = await deploy({
      mode: 'auto',
      targets: `${sandbox.sshd.host}:${sandbox.sshd.port}`,
      'remote-path': remoteDir('auto-nlb'),
      'ssh-private-key': key,
      'host-key-fingerprint': sandbox.sshd.hostKeyFingerprint
    })
    expect(nlb.errors).toEqual([])
    expect(nlb.outputs.mode).toBe('nlb')
  })

  test('explains what it checked when no path fits', async () => {
    sandbox.ssm.setInstanceState(sandbox.instanceId, 'offline')
    try {
      const run = await deploy({
        mode: 'auto',
        targets: sandbox.instanceId,
        'remote-path': remoteDir('auto-none')
      })
      expect(run.code).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toMatch(/Instance Connect Endpoint/)
      expect(run.errors[0]).toMatch(/Systems Manager/)
    } finally {
      sandbox.ssm.setInstanceState(sandbox.instanceId, 'online')
    }
  })
})

describe('credentials', () => {
  const failsWith = async (
    pattern: RegExp,
    inputs: Record<string, string>,
    env: Record<string, string> = {}
  ) => {
    const remote = remoteDir('creds-fail')
    const run = await deploy(
      {
        mode: 'ssm',
        targets: sandbox.instanceId,
        'remote-path': remote,
        'role-to-assume': sandbox.credentials.roleArn,
        ...inputs
      },
      env
    )
    expect(run.code).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(pattern)
    await expect(readdir(remote)).rejects.toThrow(/ENOENT/)
    return run
  }

  test.each([
    ['eice', () => sandbox.eiceInstanceId, 'eice'],
    [
      'nlb (one-time key for the instance behind it)',
      () => `${sandbox.eiceInstanceId}@${sandbox.sshd.host}:${sandbox.sshd.port}`,
      'nlb'
    ]
  ])(
    'role-to-assume works over %s, and the assumed keys sign every AWS call',
    async (_what, target, mode) => {
      const remote = remoteDir(`creds-${mode}`)
      const run = await deploy({
        mode,
        targets: target(),
        'remote-path': remote,
        'role-to-assume': sandbox.credentials.roleArn,
        'host-key-fingerprint': sandbox.sshd.hostKeyFingerprint
      })
      await expectUploaded(run, remote, mode)
      expect(sandbox.credentials.signersOf('SendSSHPublicKey').at(-1)).toMatch(/^ASIA/)
      if (mode === 'eice') expect(sandbox.credentials.signersOf('DescribeInstances').at(-1)).toMatch(/^ASIA/)
      const text = visible(run)
      for (const t of sandbox.credentials.oidc.issued) expect(text).not.toContain(t.token)
    }
  )

  test('a token for the wrong audience is refused', async () => {
    await failsWith(/audience/i, { audience: 'not-sts' })
  })

  test('a trust rule that does not match the token subject names the role and the subject', async () => {
    const sub = sandbox.credentials.oidc.sub
    sandbox.credentials.oidc.sub = 'repo:someone-else/repo:ref:refs/heads/main'
    try {
      const run = await failsWith(/someone-else/, {})
      expect(run.errors[0]).toContain(sandbox.credentials.roleArn)
    } finally {
      sandbox.credentials.oidc.sub = sub
    }
  })

  test('an expired token is refused', async () => {
    const life = sandbox.credentials.oidc.tokenLifetimeSeconds
    sandbox.credentials.oidc.tokenLifetimeSeconds = -60
    try {
      await failsWith(/expired/i, {})
    } finally {
      sandbox.credentials.oidc.tokenLifetimeSeconds = life
    }
  })

  test('a job without id-token permission is told the lines to add', async () => {
    await failsWith(
      /id-token: write/,
      {},
      { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }
    )
  })

  test('an account outside allowed-account-ids is refused', async () => {
    await failsWith(/allowed-account-ids|not allowed/i, { 'allowed-account-ids': '999999999999' })
  })

  test('a deploy that outlives its credentials refreshes them and completes', async () => {
    sandbox.credentials.sts.sessionLifetimeSeconds = 2
    const assumes = sandbox.credentials.sts.assumeCalls.length
    try {
      const remote = remoteDir('creds-refresh')
      const run = await deploy({
        mode: 'ssm',
        targets: sandbox.instanceId,
        'remote-path': remote,
        'role-to-assume': sandbox.credentials.roleArn,
        // Outlives the 2 s credentials by construction; the session's end then needs fresh ones.
        'pre-command': 'sleep 3'
      })
      await expectUploaded(run, remote, 'ssm')
      expect(sandbox.credentials.sts.assumeCalls.length - assumes).toBeGreaterThanOrEqual(2)
      expect(sandbox.ssm.sessions.unterminated()).toEqual([])
    } finally {
      sandbox.credentials.sts.sessionLifetimeSeconds = undefined
    }
  })
})
