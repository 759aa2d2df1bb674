import { parentPort, workerData } from 'node:worker_threads'
import { startAwsSimServer } from '../sim/aws/server.js'
import { startEiceSim } from '../sim/eice/eice-sim.js'

/** The EC2 API and EICE endpoint simulators on their own thread (bench/eice.ts), stopped by a 'stop' message. */
const { sshHost, sshPort } = workerData as { sshHost: string; sshPort: number }
const aws = await startAwsSimServer()
const sim = await startEiceSim({ sshHost, sshPort, awsServer: aws })
parentPort!.postMessage({ env: sim.env, ca: sim.ca, instanceId: sim.instanceId, region: sim.region })
parentPort!.once('message', async () => {
  await sim.stop()
  await aws.close()
  parentPort!.close()
})
