import { shellQuote } from './quote.js'
import { CURRENT_LINK, lockPath, RELEASE_ID, RELEASES_DIR } from './names.js'
import { removeOwnTempsScript, safeWord } from './lock.js'
import { waitForPacksScript } from './pack.js'
import { removeReleasesScript } from './releases.js'

/**
 * What the action's post step runs on a target a killed deploy left locked (pure: renders sh). It
 * acts only while the lock still holds that deploy's token (if someone broke it and deploys now,
 * nothing is touched): once no pack of the run is still being extracted there, the unfinished
 * release goes (unless current points to it: it went live), then the run's temporaries, then the
 * lock. Prints CLEANED when it did.
 */
export function cleanupScript(root: string, token: string, tempToken: string, releaseId?: string): string {
  const release =
    releaseId && RELEASE_ID.test(releaseId)
      ? `if [ "$(readlink ${shellQuote(`${root}/${CURRENT_LINK}`)} 2>/dev/null)" != ${shellQuote(`${RELEASES_DIR}/${releaseId}`)} ]; then
  ${removeReleasesScript(root, [releaseId]).trim()}
fi
`
      : ''
  return `L=${shellQuote(lockPath(root))}
if [ "$(sed -n 's/^token=//p' "$L/owner" 2>/dev/null)" = ${safeWord(token)} ]; then
${waitForPacksScript(root, tempToken)}${release}${removeOwnTempsScript(root, tempToken)}rm -rf -- "$L"
echo CLEANED
fi
:
`
}
