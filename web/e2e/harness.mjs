// Shared e2e plumbing: the CityOps server, the UI base URL, Chromium.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ARTIFACTS = join(WEB, 'e2e', 'artifacts')
mkdirSync(ARTIFACTS, { recursive: true })

function cityopsBin() {
  if (process.env.CITYOPS_BIN) return process.env.CITYOPS_BIN
  const target = process.env.CARGO_TARGET_DIR || resolve(WEB, '..', 'target')
  const release = join(target, 'release', 'cityops')
  return existsSync(release) ? release : join(target, 'debug', 'cityops')
}

/** Spawn a process and resolve with the first stdout line matching `re`. */
function startAndWait(cmd, args, opts, re, label, timeoutMs = 60_000) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
  const lines = []
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start:\n${lines.join('\n')}`)), timeoutMs)
    const onLine = (line) => {
      lines.push(line)
      const m = line.match(re)
      if (m) {
        clearTimeout(timer)
        resolvePromise({ child, match: m })
      }
    }
    createInterface({ input: child.stdout }).on('line', onLine)
    createInterface({ input: child.stderr }).on('line', (l) => lines.push(l))
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${label} exited with ${code}:\n${lines.join('\n')}`))
    })
  })
}

/**
 * The demo server on a free port with a data directory of its own. `env`: variables added to the
 * server's environment (e.g. `CITYOPS_MQTT` for MQTT ingestion); `args`: more arguments.
 */
export async function startCityops({ env = {}, args = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cityops-e2e-'))
  const { child, match } = await startAndWait(
    // The live city stays still (`--live-every 0`): it moves random open cases, and one of them
    // may be the case a test is about to move, which would then fail on a stale version. The
    // simulated sensors keep reporting, for the vital signs and alarms.
    cityopsBin(), ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--cases', '60', '--live-every', '0', ...args],
    Object.keys(env).length ? { env: { ...process.env, ...env } } : {}, /CityOps listening on (http:\/\/\S+)/, 'cityops',
  )
  child.removeAllListeners('exit')
  return {
    url: match[1].replace(/\/$/, ''),
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 200))
      if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
      // The keys live beside the data directory, never inside it.
      rmSync(`${dataDir}.keys`, { recursive: true, force: true })
    },
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
    s.on('error', rej)
  })
}

/** Where the UI is: E2E_BASE_URL, else (unless E2E_UI=preview) the CityOps server if it serves HTML at /, else `vite preview` proxying /api. */
export async function startUi(apiUrl) {
  if (process.env.E2E_BASE_URL) return { url: process.env.E2E_BASE_URL.replace(/\/$/, ''), stop: async () => {} }
  // E2E_UI=preview: test the current web/dist through `vite preview` even when the server embeds (an older) one
  if (process.env.E2E_UI !== 'preview') try {
    const res = await fetch(apiUrl + '/')
    if (res.ok && (res.headers.get('content-type') || '').includes('text/html')) return { url: apiUrl, stop: async () => {} }
  } catch {
    /* fall through */
  }
  if (!existsSync(join(WEB, 'dist', 'index.html'))) throw new Error('web/dist is missing: run `npm run build` first')
  const port = await freePort()
  const { child } = await startAndWait(
    process.execPath, [join(WEB, 'node_modules', 'vite', 'bin', 'vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: WEB, env: { ...process.env, CITYOPS_API: apiUrl } }, /Local:\s+(http:\/\/\S+)/, 'vite preview',
  )
  child.removeAllListeners('exit')
  return { url: `http://127.0.0.1:${port}`, stop: async () => child.kill('SIGTERM') }
}

/**
 * Chromium, with a context per person: the session is a cookie, which every page of a context
 * shares, so people signed in side by side need contexts of their own.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  return {
    browser,
    newContext: () => browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    }),
    close: () => browser.close(),
  }
}

/**
 * A tiny API client for the test's own calls (not the UI). It signs in the scripts' way, for a
 * bearer token; the UI's cookie session is checked in the browser.
 */
export function apiClient(base) {
  const call = async (method, path, token, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    let json = null
    try { json = JSON.parse(text) } catch { /* not json */ }
    return { status: res.status, json, headers: res.headers }
  }
  return {
    call,
    login: async (username) => (await call('POST', '/sessions', null, { username, password: 'cityops-demo' })).json.token,
  }
}

/** A small valid PNG (16x16, one colour), made here. */
export async function makePng() {
  const { deflateSync, crc32 } = await import('node:zlib')
  const w = 16, h = 16
  const raw = Buffer.alloc((w * 3 + 1) * h)
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0
    for (let x = 0; x < w; x++) raw.set([30, 120 + x * 8, 200], y * (w * 3 + 1) + 1 + x * 3)
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td) >>> 0)
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

/** A new page in its own context (own cookies) that records page errors, and console errors unless told not to. */
export async function newPage(chrome, who, errors, { consoleErrors = true, downloads = false, timeout = 15_000 } = {}) {
  const page = await (await chrome.newContext({ acceptDownloads: downloads })).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  if (consoleErrors) {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${who}: ${m.text()}`)
    })
  }
  page.setDefaultTimeout(timeout)
  return page
}

/** Signs a demo user in on the UI at `ui.url`; resolves on the city screen. */
export async function signIn(page, ui, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

/** Switches the UI to `lang` (`zh` or `en`) unless it already speaks it. */
export async function setLanguage(page, lang) {
  const now = await page.evaluate(() => document.documentElement.lang)
  if (!now.startsWith(lang)) await page.getByTestId('lang-toggle').click()
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

/**
 * One API session per user for a whole file: signing in for every call would spend the address's
 * sign-in budget (30 a minute), and the browser's own sign-ins would then be refused. `client` gives
 * the file's `apiClient` once it exists.
 */
export function sessionsOf(client) {
  const tokens = new Map()
  return async (who) => {
    if (!tokens.has(who)) tokens.set(who, await client().login(who))
    return tokens.get(who)
  }
}

/**
 * The MQTT broker the e2e may use: `CITYOPS_TEST_MQTT_URL`, else mqtt://127.0.0.1:1883; `up` is
 * whether something answers on its port (a TCP connect within 2 s).
 */
export async function mqttBroker() {
  const url = process.env.CITYOPS_TEST_MQTT_URL || 'mqtt://127.0.0.1:1883'
  const u = new URL(url)
  const host = u.hostname || '127.0.0.1'
  const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883))
  const { connect } = await import('node:net')
  const up = await new Promise((res) => {
    const sock = connect({ host, port })
    const done = (ok) => {
      sock.destroy()
      res(ok)
    }
    sock.setTimeout(2000, () => done(false))
    sock.once('connect', () => done(true))
    sock.once('error', () => done(false))
  })
  return { url, host, port, up }
}
