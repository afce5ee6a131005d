/**
 * Development pages: shown only when the service says its development adapters are active
 * (GET /api/v1/dev answers; in production the route is absent and the answer is a 404).
 */
import { ref } from 'vue'
import { dev } from '@/api'

const pages = ref<string[] | null>(null)
let asked: Promise<void> | null = null

export function useDevPages() {
  if (!asked) {
    asked = dev.info().then((d) => { pages.value = d.pages }).catch(() => { pages.value = [] })
  }
  return pages
}
