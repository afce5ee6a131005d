// Unit tests of where the menu links functions to (src/pages.ts), run by `npm test`.
import { describe, expect, it } from 'vitest'
import { menuEntries, pageOf } from './pages'

describe('pageOf', () => {
  it('links a function with a page to it, and one without to the "not built" page', () => {
    expect(pageOf('ac.staff')).toEqual({ name: 'staff' })
    expect(pageOf('ac.no.such.page')).toEqual({ name: 'not-built', params: { object: 'ac.no.such.page' } })
  })
  it('links a target-dependent function to its base function page', () => {
    expect(pageOf('ac.staff:anything')).toEqual({ name: 'staff' })
    expect(pageOf('ac.unbuilt:x').name).toBe('not-built')
  })
})

describe('menuEntries', () => {
  it('lists each page once, under the first function that leads there, and leaves out the header ones', () => {
    const fs = ['ac.ent.info.basic', 'ac.ent.reveal', 'ac.staff', 'ac.staff:x', 'ac.staff:y', 'ac.switch',
      'ac.unbuilt:a', 'ac.unbuilt:b', 'ac.other'].map((object) => ({ object }))
    expect(menuEntries(fs).map((f) => f.object)).toEqual(['ac.ent.info.basic', 'ac.staff', 'ac.unbuilt:a', 'ac.other'])
  })
})
