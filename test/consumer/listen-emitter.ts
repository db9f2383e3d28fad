/**
 * Consumer type test for `listen` with Node's EventEmitter (node16 consumers only).
 */
import { EventEmitter } from 'node:events'
import { listen } from 'asyncsafe/guards'

export function listenToEmitter(): string {
  const emitter = new EventEmitter()
  const chunks: string[] = []
  {
    using off = listen(emitter, 'data', (chunk: string) => {
      chunks.push(chunk)
    })
    emitter.emit('data', 'a')
    void off
  }
  emitter.emit('data', 'b')
  return chunks.join()
}
