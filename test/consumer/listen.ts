/**
 * Consumer type test for `listen` with the platform's own EventTarget and (for the node16
 * consumers) Node's EventEmitter, compiled like usage.ts.
 */
import { listen } from 'asyncsafe/guards'

export function listenToEventTarget(): number {
  const target = new EventTarget()
  let heard = 0
  {
    using off = listen(target, 'ping', () => {
      heard++
    })
    target.dispatchEvent(new Event('ping'))
    void off
  }
  target.dispatchEvent(new Event('ping'))
  return heard
}
