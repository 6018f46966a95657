#!/usr/bin/env node
// Gzipped size of the JavaScript a browser loads up front for the citizen route:
// the entry chunk, the citizen page chunk, and every chunk they import statically.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const BUDGET = Number(process.env.CITIZEN_BUDGET_KB || 300) * 1024
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'))

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)
const pageKeys = ['src/pages/CitizenPage.vue', 'src/pages/CitizenFollowPage.vue']
if (!entryKey) throw new Error('no entry in manifest')

function closure(keys) {
  const seen = new Set()
  const walk = (k) => {
    if (seen.has(k) || !manifest[k]) return
    seen.add(k)
    for (const i of manifest[k].imports ?? []) walk(i)
  }
  keys.forEach(walk)
  return seen
}

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length
const kb = (n) => `${(n / 1024).toFixed(1)} KB`
let failed = false

for (const page of pageKeys) {
  if (!manifest[page]) {
    console.error(`missing ${page} in manifest`)
    failed = true
    continue
  }
  const keys = closure([entryKey, page])
  let total = 0
  console.log(`\n${page}: initial JavaScript (gzip)`)
  for (const k of keys) {
    const size = gz(manifest[k].file)
    total += size
    console.log(`  ${kb(size).padStart(10)}  ${manifest[k].file}`)
  }
  const ok = total <= BUDGET
  if (!ok) failed = true
  console.log(`  ${kb(total).padStart(10)}  total (budget ${kb(BUDGET)}) ${ok ? 'OK' : 'OVER BUDGET'}`)
}

// For information: every route chunk and the largest chunks overall.
const all = Object.values(manifest).filter((m) => m.file.endsWith('.js'))
const sizes = all.map((m) => ({ file: m.file, src: m.src ?? '', gz: gz(m.file) })).sort((a, b) => b.gz - a.gz)
console.log('\nall JS chunks (gzip):')
for (const s of sizes) console.log(`  ${kb(s.gz).padStart(10)}  ${s.file}  ${s.src}`)

process.exit(failed ? 1 : 0)
