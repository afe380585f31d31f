/**
 * A real browser for the tests of what a person looks at: Debian's Chromium (`TRADE_EXEC_CHROMIUM`, by
 * default /usr/bin/chromium) driven by playwright-core. With `CI` set these suites must run, so a missing
 * browser fails them; elsewhere they are skipped with the reason printed.
 */
import { describe } from "@effect/vitest"
import { existsSync } from "node:fs"
import { type Browser, chromium } from "playwright-core"

export const chromiumPath = process.env.TRADE_EXEC_CHROMIUM ?? "/usr/bin/chromium"

export const browserAvailable = existsSync(chromiumPath)

/** `describe` for suites that need the browser. */
export const describeBrowser: typeof describe = ((name: string, fn: () => void) => {
  if (browserAvailable || process.env.CI) return describe(name, fn)
  console.warn(`skipping "${name}": no Chromium at ${chromiumPath}; install Debian's chromium package (apt-get install -y chromium) or set TRADE_EXEC_CHROMIUM`)
  return describe.skip(name, fn)
}) as typeof describe

export const launch = (): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
  })
