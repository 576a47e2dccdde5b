/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream format, minus retry):
 * feed it text as it arrives, in chunks of any size, and get back whole frames.
 *
 * Lines end with CRLF, LF or CR; a blank line ends a frame; `:` lines are comments
 * (keep-alives); several `data:` lines join with "\n". A frame with no data is dropped.
 */
export interface SseFrame {
  id: string | null;
  event: string;
  data: string;
}

export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];
  private sawData = false;

  /** Frames completed by this chunk, in order. */
  push(chunk: string): SseFrame[] {
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for more.
      if (!match || (match[0] === "\r" && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    return frames;
  }

  private line(line: string): SseFrame | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      this.data.push(value);
      this.sawData = true;
    } else if (field === "event") {
      this.event = value;
    } else if (field === "id" && !value.includes("\0")) {
      this.id = value;
    }
    return null;
  }

  private dispatch(): SseFrame | null {
    const frame = this.sawData
      ? { id: this.id, event: this.event || "message", data: this.data.join("\n") }
      : null;
    this.event = "";
    this.data = [];
    this.sawData = false;
    return frame;
  }
}
