// Citizens' photos: a phone's photo with its GPS position is uploaded from the citizen page; the
// staff see it (without the position), the public page does not until an operator reviews it;
// after review, with a region dragged over the photo to blur, the citizen's page shows a copy
// without EXIF whose region is blurred. Chinese, then English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

const HUANGPU = { lon: '121.4837', lat: '31.2369' }
const TAG = `PH${Date.now().toString(36)}`
const WIDTH = 240
const HEIGHT = 160
/** The region dragged over the photo, in its pixels (it is shown at its own size). */
const REGION = { x: 20, y: 20, w: 100, h: 60 }

let server, ui, chrome, api
const state = { number: null, id: null, photo: null, jpeg: null, citizen: null }
const errors = []

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

async function newPage(who) {
  const page = await (await chrome.newContext()).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.setDefaultTimeout(15_000)
  return page
}

async function setLanguage(page, lang) {
  const now = await page.evaluate(() => document.documentElement.lang)
  if (!now.startsWith(lang)) await page.getByTestId('lang-toggle').click()
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

async function signIn(page, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `photos-${name}.png`), fullPage: true })

/** A JPEG drawn by the browser: a fine checkerboard, so that blurring shows. */
async function drawJpeg(page) {
  const dataUrl = await page.evaluate(([w, h]) => {
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    const g = canvas.getContext('2d')
    for (let y = 0; y < h; y += 4) for (let x = 0; x < w; x += 4) {
      g.fillStyle = (x + y) % 8 === 0 ? '#f5f5f5' : '#10203a'
      g.fillRect(x, y, 4, 4)
    }
    return canvas.toDataURL('image/jpeg', 0.95)
  }, [WIDTH, HEIGHT])
  return Buffer.from(dataUrl.split(',')[1], 'base64')
}

/**
 * The JPEG with an EXIF APP1 segment as a phone writes it: the camera's make and the GPS
 * latitude 31°14'12.34"N (big-endian TIFF, offsets from its start).
 */
function withGps(jpeg) {
  const tiff = Buffer.alloc(100)
  tiff.write('MM', 0, 'latin1'); tiff.writeUInt16BE(42, 2); tiff.writeUInt32BE(8, 4)
  const entry = (at, tag, type, count, value) => {
    tiff.writeUInt16BE(tag, at); tiff.writeUInt16BE(type, at + 2); tiff.writeUInt32BE(count, at + 4)
    if (typeof value === 'number') tiff.writeUInt32BE(value, at + 8)
    else tiff.write(value, at + 8, 'latin1')
  }
  tiff.writeUInt16BE(2, 8) // IFD0: Make, GPS pointer
  entry(10, 0x010f, 2, 8, 38)
  entry(22, 0x8825, 4, 1, 46)
  tiff.writeUInt32BE(0, 34)
  tiff.write('CityCam\0', 38, 'latin1')
  tiff.writeUInt16BE(2, 46) // GPS IFD: latitude reference, latitude
  entry(48, 0x0001, 2, 2, 'N\0\0\0')
  entry(60, 0x0002, 5, 3, 76)
  tiff.writeUInt32BE(0, 72)
  ;[[31, 1], [14, 1], [1234, 100]].forEach(([n, d], i) => { tiff.writeUInt32BE(n, 76 + i * 8); tiff.writeUInt32BE(d, 80 + i * 8) })
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff])
  const header = Buffer.alloc(4)
  header.writeUInt16BE(0xffe1, 0); header.writeUInt16BE(payload.length + 2, 2)
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)])
}

const hasExif = (bytes) => bytes.includes(Buffer.from('Exif\0\0', 'latin1')) || bytes.includes(Buffer.from('CityCam', 'latin1'))

describe('citizen photos', () => {
  it('a citizen reports with a photo carrying a GPS position; the public page shows no photo yet', async () => {
    const page = await newPage('citizen')
    await page.goto(`${ui.url}/citizen`)
    state.jpeg = withGps(await drawJpeg(page))
    assert.ok(hasExif(state.jpeg))
    await page.locator('[data-kind="parking"]').click()
    await page.getByTestId('lon').fill(HUANGPU.lon)
    await page.getByTestId('lat').fill(HUANGPU.lat)
    await page.getByTestId('description').fill(`${TAG} 共享单车堵住了盲道`)
    await page.getByTestId('photo').setInputFiles({ name: 'street.jpg', mimeType: 'image/jpeg', buffer: state.jpeg })
    await page.getByTestId('submit').click()
    await page.getByTestId('report-done').waitFor()
    state.number = (await page.getByTestId('case-number').textContent()).trim()
    await page.getByTestId('follow-link').click()
    await page.getByTestId('follow-steps').waitFor()
    assert.equal(await page.getByTestId('follow-photos').count(), 0, 'no photo before review')
    await shot(page, 'citizen-before-review')

    const op = await api.login('operator')
    const found = await api.call('GET', `/cases/${state.number}`, op)
    state.id = found.json.id
    const listed = await api.call('GET', `/cases/${state.id}/attachments`, op)
    assert.equal(listed.status, 200)
    assert.equal(listed.json.length, 1, JSON.stringify(listed.json))
    assert.equal(listed.json[0].review, 'pending')
    state.photo = listed.json[0].id
    state.citizen = page
    // Not served to the public before review.
    const before = await fetch(`${server.url}/api/v1/public/cases/${state.number}/photos/${state.photo}`)
    assert.notEqual(before.status, 200)
    // Even the staff copy lost the position and the device.
    const stored = await fetch(`${server.url}/api/v1/attachments/${state.photo}`, { headers: { authorization: `Bearer ${op}` } })
    assert.equal(stored.status, 200)
    assert.ok(!hasExif(Buffer.from(await stored.arrayBuffer())), 'the stored copy has no EXIF')
  })

  it('an operator reviews it on the case page: drags a region to blur and publishes (Chinese, then English)', async () => {
    assert.ok(state.id)
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/cases/${state.id}`)
    const photo = page.locator(`[data-testid="case-photo"][data-attachment="${state.photo}"]`)
    await photo.waitFor()
    assert.equal(await photo.getAttribute('data-review'), 'pending')
    assert.equal((await photo.getByTestId('photo-review-state').textContent()).trim(), '待审核')
    await photo.getByTestId('photo-review-open').click()
    const canvas = page.getByTestId('review-canvas')
    await canvas.locator('img').waitFor()
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="review-canvas"] img')
      return img && img.complete && img.naturalWidth > 0
    })
    const box = await canvas.locator('img').boundingBox()
    assert.equal(Math.round(box.width), WIDTH, 'shown at its own size')
    await page.mouse.move(box.x + REGION.x, box.y + REGION.y)
    await page.mouse.down()
    await page.mouse.move(box.x + REGION.x + REGION.w / 2, box.y + REGION.y + REGION.h / 2, { steps: 4 })
    await page.mouse.move(box.x + REGION.x + REGION.w, box.y + REGION.y + REGION.h, { steps: 4 })
    await page.mouse.up()
    assert.equal(await page.getByTestId('blur-rect').count(), 1)
    assert.match(await page.getByTestId('review-count').textContent(), /1/)
    await shot(page, 'operator-review-zh')
    await page.getByTestId('review-publish').click()
    await page.locator(`[data-testid="case-photo"][data-attachment="${state.photo}"][data-review="published"]`).waitFor()
    assert.equal((await photo.getByTestId('photo-review-state').textContent()).trim(), '已公开')

    await setLanguage(page, 'en')
    await page.reload()
    await photo.waitFor()
    assert.equal((await photo.getByTestId('photo-review-state').textContent()).trim(), 'Public')
    await photo.getByTestId('photo-review-open').click()
    await page.getByTestId('photo-review').waitFor()
    assert.match(await page.getByTestId('photo-review').textContent(), /Photo review/)
    // The regions are drawn once the photo has loaded.
    await page.getByTestId('blur-rect').first().waitFor()
    assert.equal(await page.getByTestId('blur-rect').count(), 1, 'the region of the review is shown again')
    await shot(page, 'operator-review-en')

    const op = await api.login('operator')
    const listed = await api.call('GET', `/cases/${state.id}/attachments`, op)
    const blur = listed.json[0].blur
    assert.equal(blur.length, 1)
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(Math.abs(blur[0][k] - REGION[k]) <= 2, JSON.stringify(blur))
  })

  it('the citizen now sees the photo: no EXIF, the region blurred, the rest as taken', async () => {
    assert.ok(state.photo)
    // The reporter's own device, which keeps the follow token.
    const page = state.citizen
    await page.reload()
    const img = page.getByTestId('follow-photos').locator('img')
    await img.waitFor()
    await page.waitForFunction(() => {
      const i = document.querySelector('[data-testid="follow-photos"] img')
      return i && i.complete && i.naturalWidth > 0
    })
    await shot(page, 'citizen-after-review')
    const src = await img.getAttribute('src')
    const shown = await fetch(new URL(src, ui.url))
    assert.equal(shown.status, 200)
    assert.ok(!hasExif(Buffer.from(await shown.arrayBuffer())), 'the public copy has no EXIF')
    // Without the token the same address shows nothing.
    const bare = await fetch(new URL(src.replace(/\?.*$/, ''), ui.url))
    assert.equal(bare.status, 403)

    const [inside, outside] = await page.evaluate(async ([original, region]) => {
      const load = (source) => new Promise((resolve, reject) => {
        const i = new Image()
        i.onload = () => resolve(i)
        i.onerror = reject
        i.src = source
      })
      const pixels = (i) => {
        const c = document.createElement('canvas')
        c.width = i.naturalWidth
        c.height = i.naturalHeight
        const g = c.getContext('2d')
        g.drawImage(i, 0, 0)
        return g.getImageData(0, 0, c.width, c.height)
      }
      const a = pixels(document.querySelector('[data-testid="follow-photos"] img'))
      const b = pixels(await load(original))
      const diff = (x0, y0, x1, y1) => {
        let total = 0
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
          const k = (y * a.width + x) * 4
          total += Math.abs(a.data[k] - b.data[k]) + Math.abs(a.data[k + 1] - b.data[k + 1]) + Math.abs(a.data[k + 2] - b.data[k + 2])
        }
        return total / ((x1 - x0) * (y1 - y0))
      }
      return [
        diff(region.x + 6, region.y + 6, region.x + region.w - 6, region.y + region.h - 6),
        diff(150, 100, 230, 150),
      ]
    }, [`data:image/jpeg;base64,${state.jpeg.toString('base64')}`, REGION])
    assert.ok(inside > 100, `the region is blurred: ${inside}`)
    assert.ok(outside < 40, `the rest is as taken: ${outside}`)

    await setLanguage(page, 'en')
    assert.match(await page.getByTestId('follow-photos').textContent(), /published after review/)
    assert.deepEqual(errors, [])
  })
})
