#!/usr/bin/env node
// Draws the field app's icons (城管通, web/public/icons/field-{192,512}.png): the CityOps mark, a
// ring round a dot, light on the header's blue, with a margin that keeps it whole when a phone
// crops the icon to a circle (maskable). PNG written by hand: no image library needed.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32, deflateSync } from 'node:zlib'

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons')
const BLUE = [11, 58, 110]
const SKY = [79, 195, 247]
const WHITE = [255, 255, 255]

/** The colour of a point (in units of the icon's size, 0..1). */
function colour(x, y) {
  const r = Math.hypot(x - 0.5, y - 0.5)
  if (r < 0.085) return WHITE
  if (r > 0.2 && r < 0.27) return SKY
  if (r > 0.31 && r < 0.34) return WHITE
  return BLUE
}

function png(size) {
  const ss = 4 // samples a side per pixel, for smooth edges
  const row = size * 3 + 1
  const raw = Buffer.alloc(row * size)
  for (let y = 0; y < size; y++) {
    raw[y * row] = 0
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0]
      for (let i = 0; i < ss; i++) for (let j = 0; j < ss; j++) {
        const c = colour((x + (i + 0.5) / ss) / size, (y + (j + 0.5) / ss) / size)
        sum[0] += c[0]; sum[1] += c[1]; sum[2] += c[2]
      }
      raw.set(sum.map((v) => Math.round(v / (ss * ss))), y * row + 1 + x * 3)
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td) >>> 0)
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 2
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))])
}

for (const size of [192, 512]) {
  const file = join(out, `field-${size}.png`)
  writeFileSync(file, png(size))
  console.log(file)
}
