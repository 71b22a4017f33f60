/** One server-sent event: its `event:` name ('message' when absent) and its `data:` lines joined. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * A text/event-stream parser for tests: feed it the response's chunks as they arrive; it calls
 * `onEvent` for every complete event (blocks end at a blank line; comments and heartbeats without
 * data are skipped).
 */
export function sseParser(onEvent: (e: SseEvent) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent({ event, data: data.join('\n') });
    }
  };
}
