/** Text lines of a byte stream (a child process's stdout, stdin). */

/**
 * Yield each `\n`-terminated line of `stream` (UTF-8), without the newline;
 * a last line without one is yielded too.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}
