import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuth } from '../src/stores/auth'
import { useCity } from '../src/stores/city'
import type { Role, User } from '../src/api/types'
import { jsonResponse, mockFetch } from './helpers'

function signInAs(scope: string, role: Role = 'dispatcher') {
  const user: User = { id: 'u1', username: role, display_name: role, role, unit: null, scope }
  useAuth().session = { expires_at: '', user, csrf_token: 'c' }
}

const urlOf = (f: ReturnType<typeof mockFetch>, i: number) => (f.mock.calls[i] as unknown as [string])[0]

describe('the city of the signed-in user', () => {
  beforeEach(() => {
    sessionStorage.clear()
    setActivePinia(createPinia())
    vi.unstubAllGlobals()
  })

  it('is the city of their scope, whatever its level and whoever they are', () => {
    const city = useCity()
    expect(city.code).toBeNull()
    const users: [string, Role][] = [
      ['310000', 'center_leader'], ['310101', 'dispatcher'], ['310101002', 'inspector'], ['310115', 'auditor'], ['310000', 'data_steward'],
    ]
    for (const [scope, role] of users) {
      signInAs(scope, role)
      expect(city.code, `${role} ${scope}`).toBe('310000')
    }
    signInAs('320508')
    expect(city.code).toBe('320500')
  })

  it('asks for the districts once, even when two pages ask at once', async () => {
    signInAs('310101')
    const districts = [{ code: '310101', name: '黄浦区', level: 'district', parent: '310000' }]
    const f = mockFetch(jsonResponse(200, districts))
    const city = useCity()
    const [a, b] = await Promise.all([city.loadDistricts(), city.loadDistricts()])
    expect(a).toEqual(districts)
    expect(b).toEqual(districts)
    expect(await city.loadDistricts()).toEqual(districts)
    expect(city.districts).toEqual(districts)
    expect(f).toHaveBeenCalledTimes(1)
    expect(urlOf(f, 0)).toBe('/api/v1/areas?parent=310000&level=district')
  })

  it('asks again after a failure, and for the new city after another user signs in', async () => {
    signInAs('310101')
    const f = mockFetch(
      jsonResponse(500, { error: { code: 'internal', message: 'down' } }),
      jsonResponse(200, []),
      jsonResponse(200, [{ code: '320508', name: '姑苏区', level: 'district', parent: '320500' }]),
    )
    const city = useCity()
    await expect(city.loadDistricts()).rejects.toMatchObject({ status: 500 })
    expect(await city.loadDistricts()).toEqual([])
    signInAs('320508')
    expect((await city.loadDistricts()).map((d) => d.code)).toEqual(['320508'])
    expect(urlOf(f, 2)).toBe('/api/v1/areas?parent=320500&level=district')
  })

  it('has no districts for nobody', async () => {
    const f = mockFetch()
    expect(await useCity().loadDistricts()).toEqual([])
    expect(f).not.toHaveBeenCalled()
  })
})
