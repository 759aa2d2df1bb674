import { describeOutcomes } from '../../src/delivery/s3/results.js'
import type { InvocationOutcome } from '../../src/delivery/s3/run-command.js'

/**
 * Run Command's statuses as delivery: s3 reports them: a delivery timeout (the agent never took the
 * command) is not an execution timeout, and what the runner cancelled says whether it had started.
 */

const config = { remotePath: '/srv/app', release: 'atomic' as const, timeoutSeconds: 30 }
const outcome = (o: Partial<InvocationOutcome>): InvocationOutcome => ({
  instanceId: 'i-0123456789abcdef0',
  commandId: 'c0ffee00-0000-4000-8000-000000000000',
  status: 'Success',
  statusDetails: 'Success',
  stdout: '',
  stderr: '',
  ...o
})

test('Delivery Timed Out and Execution Timed Out are told apart', () => {
  const [delivery, execution] = describeOutcomes(
    [
      outcome({ status: 'TimedOut', statusDetails: 'DeliveryTimedOut' }),
      outcome({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut', stderr: 'ec2-push: fetching\n' })
    ],
    3,
    config
  )
  expect(delivery).toMatchObject({ status: 'failure', verification: 'not reached' })
  expect(delivery.error).toMatch(
    /^not run: its SSM agent did not take the command before the delivery timeout/
  )
  expect(execution.error).toBe(
    'the command timed out on the instance after 30 s (executionTimeout); fetching'
  )
})

test('cancelled by the runner (while running, before starting, or not confirmed), not sent for MaxErrors, or cancelled by someone else', () => {
  const results = describeOutcomes(
    [
      outcome({ status: 'Cancelled', statusDetails: 'Cancelled', stopped: 'running' }),
      outcome({ status: 'Cancelled', statusDetails: 'Cancelled', stopped: 'waiting' }),
      outcome({ status: 'Cancelling', statusDetails: 'Cancelling', unconfirmed: true }),
      outcome({ status: 'Cancelled', statusDetails: 'Terminated' }),
      outcome({ status: 'Cancelled', statusDetails: 'Cancelled' })
    ],
    3,
    config,
    l => l,
    'the step ran out of time, timeout-seconds 30'
  )
  expect(results.map(r => [r.status, r.error])).toEqual([
    [
      'cancelled',
      'cancelled while its script ran (the step ran out of time, timeout-seconds 30): the agent stopped it, and the instance undoes its lock, temporaries and unfinished release'
    ],
    [
      'cancelled',
      'cancelled before it started (the step ran out of time, timeout-seconds 30): nothing ran there'
    ],
    [
      'failure',
      'cancellation not confirmed: Run Command still says Cancelling (command c0ffee00-0000-4000-8000-000000000000), so its script may still be running there; check that instance'
    ],
    ['skipped', 'not run: MaxErrors was reached (fail-fast) before Run Command sent it here'],
    [
      'cancelled',
      'cancelled outside this run (Run Command: Cancelled), by CancelCommand or the console; if its script had started, the instance undid its lock, temporaries and unfinished release'
    ]
  ])
})

test('outputs the runner had no time to read: Success is a success, anything else says so', () => {
  const [ok, failed] = describeOutcomes(
    [
      outcome({ status: 'Success', unread: true }),
      outcome({ status: 'Failed', statusDetails: 'Failed', unread: true })
    ],
    3,
    config
  )
  expect(ok.status).toBe('success')
  expect(failed).toMatchObject({
    status: 'failure',
    error: 'Run Command status Failed (Failed); its output was not read before the runner stopped'
  })
})
