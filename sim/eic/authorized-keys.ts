import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * The instance side of EC2 Instance Connect for our local sshd. On a real instance the
 * ec2-instance-connect package sets `AuthorizedKeysCommand eic_run_authorized_keys %u %f`, which
 * prints the keys pushed for that OS user that have not expired yet. Here the simulator keeps one
 * file per OS user (`<dir>/active-keys/<user>`, lines `expiry-epoch-seconds type base64`, rewritten
 * atomically) and a small /bin/sh script prints the unexpired lines at each login attempt.
 *
 * Why `/bin/sh <script>` and not the script itself: sshd refuses an AuthorizedKeysCommand whose path,
 * or any directory above it, is not root-owned or is group/world-writable — and the temp dir lives
 * under /tmp (mode 1777). Only argv[0] is checked, so /bin/sh runs the script from anywhere.
 * Like the real parser, only key types starting with `ssh` (ssh-rsa, ssh-ed25519) are printed.
 */

const SCRIPT = `#!/bin/sh
# ec2-push simulator: print the unexpired one-time keys pushed for user $2 (see sim/eic/authorized-keys.ts).
file="$1/$2"
[ -r "$file" ] || exit 0
now=$(date +%s)
while read -r expiry type blob; do
  case "$expiry" in ''|*[!0-9]*) continue ;; esac
  [ "$expiry" -gt "$now" ] || continue
  case "$type" in ssh*) printf '%s %s\\n' "$type" "$blob" ;; esac
done < "$file"
exit 0
`

export interface ActiveKey {
  publicKey: string
  /** Epoch seconds; the key is honoured while `date +%s` is below this. */
  expiresAt: number
}

export interface AuthorizedKeysStore {
  /** Lines for sshd_config (`startSshd({ extraConfig })`). */
  sshdConfigLines: string[]
  scriptFile: string
  keysDir: string
  /** Add a pushed key for `user`, dropping that user's expired keys, and rewrite the file atomically. */
  add(user: string, key: ActiveKey): Promise<void>
  /** Forget every key (as if all had expired). */
  clear(): Promise<void>
  active(user: string): ActiveKey[]
}

/** A user name that is safe as a file name (the API validates the pattern before this). */
function assertSafeUser(user: string) {
  if (!/^[A-Za-z0-9_.@-]+\$?$/.test(user) || user === '.' || user === '..')
    throw new Error(`unsafe OS user name: ${user}`)
}

export async function createAuthorizedKeysStore(dir: string): Promise<AuthorizedKeysStore> {
  if (/\s|"|'/.test(dir))
    throw new Error(`the EIC simulator's directory must not contain spaces or quotes: ${dir}`)
  const keysDir = path.join(dir, 'active-keys')
  const scriptFile = path.join(dir, 'eic-authorized-keys.sh')
  await mkdir(keysDir, { recursive: true })
  await writeFile(scriptFile, SCRIPT, { mode: 0o755 })
  const keys = new Map<string, ActiveKey[]>()
  let seq = 0
  // Writes run one at a time and each writes the latest state, so the last rename always wins with it.
  let chain: Promise<unknown> = Promise.resolve()
  const serial = (fn: () => Promise<void>): Promise<void> => {
    const next = chain.then(fn, fn)
    chain = next.catch(() => {})
    return next
  }

  const writeUser = async (user: string) => {
    const lines = (keys.get(user) ?? []).map(
      k => `${k.expiresAt} ${k.publicKey.split(/\s+/).slice(0, 2).join(' ')}\n`
    )
    const file = path.join(keysDir, user)
    const tmp = `${file}.${process.pid}.${++seq}.tmp`
    await writeFile(tmp, lines.join(''), { mode: 0o644 })
    await rename(tmp, file)
  }

  return {
    // The command runs as this user: root when sshd runs as root (the temp dir is 0700, so
    // `nobody` could not read it), else the current user (a non-root sshd cannot switch users).
    sshdConfigLines: [
      `AuthorizedKeysCommand /bin/sh ${scriptFile} ${keysDir} %u`,
      `AuthorizedKeysCommandUser ${os.userInfo().username}`
    ],
    scriptFile,
    keysDir,
    async add(user, key) {
      assertSafeUser(user)
      const now = Math.floor(Date.now() / 1000)
      keys.set(user, [...(keys.get(user) ?? []).filter(k => k.expiresAt > now), key])
      await serial(() => writeUser(user))
    },
    async clear() {
      const users = [...keys.keys()]
      keys.clear()
      await serial(
        async () => void (await Promise.all(users.map(u => rm(path.join(keysDir, u), { force: true }))))
      )
    },
    active(user) {
      const now = Math.floor(Date.now() / 1000)
      return (keys.get(user) ?? []).filter(k => k.expiresAt > now)
    }
  }
}
