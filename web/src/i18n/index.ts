/** vue-i18n with zh-CN as default and English; the choice is kept in localStorage and sent as Accept-Language. */
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'
import { setLanguage } from '@/api'

export type Lang = 'zh-CN' | 'en'
const KEY = 'authz.lang'

function initial(): Lang {
  const saved = localStorage.getItem(KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})
setLanguage(i18n.global.locale.value)
document.documentElement.lang = i18n.global.locale.value

export function useLanguage(lang: Lang): void {
  i18n.global.locale.value = lang
  localStorage.setItem(KEY, lang)
  setLanguage(lang)
  document.documentElement.lang = lang
}
