import { describe, expect, it } from 'vitest'
import QRCode from 'qrcode'
import { qrSvgDataUrl } from './qr'

describe('qrSvgDataUrl (the ticket drawn for the apps, R-LOGIN-7)', () => {
  it('draws the ticket itself as an SVG data URL with a quiet zone of 2 modules', async () => {
    const ticket = 'qr_R1bbHTwWJqqMED0ST1ftpSlY'
    const url = await qrSvgDataUrl(ticket)
    expect(url.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true)
    const svg = decodeURIComponent(url.slice(url.indexOf(',') + 1))
    const size = QRCode.create(ticket, { errorCorrectionLevel: 'M' }).modules.size
    expect(svg).toContain(`viewBox="0 0 ${size + 4} ${size + 4}"`)
    expect(svg).toMatch(/<path[^>]+d="M/)
  })

  it('gives another ticket another drawing', async () => {
    expect(await qrSvgDataUrl('qr_a')).not.toEqual(await qrSvgDataUrl('qr_b'))
  })
})
