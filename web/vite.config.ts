// Build of the web front end (docs/web.md). The bundle goes into the Python package (api/static/web),
// served by api/web.py from the same origin as the API; nothing built is committed.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus on demand: only the components a page uses, with their CSS (no global import)
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: 'src/components.d.ts' }),
  ],
  define: {
    // vue-i18n: Composition API only (no legacy API), messages compiled without eval (CSP: script-src 'self')
    __VUE_I18N_LEGACY_API__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_JIT_COMPILATION__: 'true',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
  },
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../api/static/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets', // hashed names: served with a year-long immutable cache (api/web.py)
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev`: the API on authz serve --demo (port 8000), proxied so the page stays same-origin
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
})
