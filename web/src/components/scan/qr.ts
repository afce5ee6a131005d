/** A QR code of `text` as an SVG data URL (error correction M, a quiet zone of 2 modules). */
import QRCode from 'qrcode'

export async function qrSvgDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
}
