import { reactive, ref } from 'vue'
import { ApiError } from './client'

/**
 * One home for a form's request state (docs/web.md): `busy` while a call runs (a second submit is ignored),
 * the API's errors next to their fields (`fieldOfCode` maps error codes to field names) and the rest as one
 * form message. `run` clears both before the call; anything but an ApiError is rethrown.
 */
export function useApiAction(fieldOfCode: Record<string, string> = {}) {
  const busy = ref(false)
  const errors = reactive<Record<string, string>>({})
  const formError = ref('')

  function clear() {
    Object.keys(errors).forEach((k) => delete errors[k])
    formError.value = ''
  }

  async function run<T>(call: () => Promise<T>, onError?: (e: ApiError) => void): Promise<T | undefined> {
    if (busy.value) return undefined
    clear()
    busy.value = true
    try {
      return await call()
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      Object.assign(errors, e.fieldMessages(fieldOfCode))
      formError.value = e.formMessage(fieldOfCode)
      onError?.(e)
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { busy, errors, formError, clear, run }
}
