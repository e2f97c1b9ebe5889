// A one-line "what is happening now" on a terminal (stderr): each stage overwrites the last, and
// the line is cleared when the command ends. Nothing is written when stderr is not a terminal.
export interface StageLine {
  (stage: string): void;
  done(): void;
}

export function stageLine(stream: NodeJS.WriteStream = process.stderr): StageLine {
  const tty = stream.isTTY === true;
  let shown = false;
  const show = ((stage: string) => {
    if (!tty) return;
    // TTY writes are synchronous, so a stage shows even while a synchronous compile runs after it.
    stream.write(`\r\x1b[K${stage}…`);
    shown = true;
  }) as StageLine;
  show.done = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return show;
}
