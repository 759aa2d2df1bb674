import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { COMMITTED_ACTION, runBundledAction, type ActionRun } from './action-runner.js'
import { startSandbox } from './sandbox-env.js'

/**
 * `npm run demo`: start the local sandbox (a real sshd as "the instance", simulated AWS), make a
 * sample artifact tree, run the bundled action the way the Actions runner does, once per path, and
 * print the outputs and the job summary.
 */
async function sampleArtifacts(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-demo-art-'))
  await mkdir(path.join(root, 'site', 'assets'), { recursive: true })
  await writeFile(path.join(root, 'site', 'index.html'), '<h1>Deployed by ec2-push</h1>\n')
  await writeFile(
    path.join(root, 'site', 'assets', 'app.js'),
    'console.log("hello from ec2-push")\n'.repeat(2000)
  )
  await writeFile(path.join(root, 'site', 'assets', 'blob.bin'), Buffer.alloc(4 * 1024 * 1024, 7))
  await writeFile(path.join(root, 'site', 'start.sh'), '#!/bin/sh\necho started\n')
  await chmod(path.join(root, 'site', 'start.sh'), 0o755)
  return root
}

function show(title: string, run: ActionRun) {
  const line = '-'.repeat(72)
  console.log(`\n${line}\n${title}: exit code ${run.code}\n${line}`)
  const log = run.stdout
    .split('\n')
    .filter(l => l && !l.startsWith('::add-mask::') && !l.startsWith('::debug::'))
    .join('\n')
  console.log(log)
  console.log('\nOutputs:')
  for (const [k, v] of Object.entries(run.outputs)) console.log(`  ${k} = ${v}`)
  console.log('\nJob summary (markdown/HTML, as GitHub renders it):')
  console.log(run.summary.trim())
}

const sandbox = await startSandbox()
const art = await sampleArtifacts()
let failed = 0
try {
  const key = await readFile(sandbox.sshd.clientKey.privateKeyFile, 'utf8')
  const common = {
    files: `${art}/site/**`,
    user: sandbox.sshd.user,
    'aws-region': sandbox.region
  }
  const runs: [string, Record<string, string>][] = [
    [
      'nlb: plain TCP to sshd, host key pinned',
      {
        ...common,
        mode: 'nlb',
        targets: `${sandbox.sshd.host}:${sandbox.sshd.port}`,
        'remote-path': `${sandbox.sshd.remoteRoot}/nlb`,
        'ssh-private-key': key,
        'host-key-fingerprint': sandbox.sshd.hostKeyFingerprint
      }
    ],
    [
      'ssm: Session Manager data channel, one-time key, role assumed with OIDC',
      {
        ...common,
        mode: 'ssm',
        targets: sandbox.instanceId,
        'remote-path': `${sandbox.sshd.remoteRoot}/ssm`,
        'role-to-assume': sandbox.credentials.roleArn
      }
    ],
    [
      'auto: picks eice (the instance VPC has an EC2 Instance Connect Endpoint)',
      {
        ...common,
        mode: 'auto',
        targets: sandbox.eiceInstanceId,
        'remote-path': `${sandbox.sshd.remoteRoot}/eice`
      }
    ]
  ]
  for (const [title, inputs] of runs) {
    const run = await runBundledAction(inputs, { env: sandbox.env, entry: COMMITTED_ACTION })
    show(title, run)
    if (run.code !== 0) failed++
  }
} finally {
  await rm(art, { recursive: true, force: true })
  await sandbox.stop()
}
console.log(failed ? `\ndemo: ${failed} run(s) failed` : '\ndemo: all runs succeeded')
process.exit(failed ? 1 : 0)
