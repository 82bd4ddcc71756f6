import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT } from './process.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Debian's chromium, installed on first use (playwright-core comes from package.json; it never downloads a
 * browser of its own). Needs root and apt, as on the project's machines and in CI.
 */
export function ensureChromium (): string {
  if (existsSync(CHROMIUM)) return CHROMIUM
  // apt's output goes to stderr: stdout is the test's TAP stream. Waits for a dpkg lock held by someone else.
  const apt = (args: string[]) => execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 15 * 60_000
  })
  try {
    apt(['install', '-y', 'chromium'])
  } catch {
    apt(['update'])
    apt(['install', '-y', 'chromium'])
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is still missing at ${CHROMIUM} after apt-get install`)
  return CHROMIUM
}

export async function launchChromium (): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    timeout: 120_000,
    // Root in a container has no user namespace sandbox; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu']
  })
}

export const ARTIFACTS_DIR = join(ROOT, 'test', 'artifacts')

/** Saves a full-page screenshot under test/artifacts/ (git-ignored) and returns its path. */
export async function saveFailureScreenshot (page: Page, name: string): Promise<string | null> {
  try {
    mkdirSync(ARTIFACTS_DIR, { recursive: true })
    const path = join(ARTIFACTS_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`)
    await page.screenshot({ path, fullPage: true, timeout: 30_000 })
    return path
  } catch {
    return null
  }
}
